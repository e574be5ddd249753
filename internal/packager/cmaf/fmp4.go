package cmaf

import (
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/stagecast/stagecast/internal/media"
)

// muxer turns the samples of one part into bytes.
type muxer interface {
	// init returns the initialization segment (nil when the format has
	// none).
	init() ([]byte, error)
	// part muxes one part; newSegment is set for a segment's first part;
	// meta are ID3 tags to carry at start (lead clock).
	part(video, audio []sample, newSegment bool, meta [][]byte, start int64) ([]byte, error)
}

type fmp4Muxer struct {
	video, audio *trackState
	seq          uint32
	emsgID       uint32
	buf          seekablebuffer.Buffer
}

// Codec converts a media track to an MP4 codec description.
func Codec(t media.Track) (codecs.Codec, error) {
	switch t.Codec {
	case media.H264:
		return &codecs.H264{SPS: t.SPS, PPS: t.PPS}, nil
	case media.H265:
		return &codecs.H265{VPS: t.VPS, SPS: t.SPS, PPS: t.PPS}, nil
	case media.AV1:
		if len(t.AV1Config) == 0 {
			return nil, errors.New("av1 track without sequence header")
		}
		return &codecs.AV1{SequenceHeader: t.AV1Config}, nil
	case media.AAC:
		var c mpeg4audio.AudioSpecificConfig
		if err := c.Unmarshal(t.AACConfig); err != nil {
			return nil, fmt.Errorf("aac config: %w", err)
		}
		return &codecs.MPEG4Audio{Config: c}, nil
	case media.Opus:
		ch := t.Channels
		if ch <= 0 {
			ch = 2
		}
		return &codecs.Opus{ChannelCount: ch}, nil
	}
	return nil, fmt.Errorf("codec %s not supported in fmp4", t.Codec)
}

func (m *fmp4Muxer) init() ([]byte, error) {
	var in fmp4.Init
	for _, ts := range []*trackState{m.video, m.audio} {
		if ts == nil {
			continue
		}
		c, err := Codec(ts.t)
		if err != nil {
			return nil, err
		}
		in.Tracks = append(in.Tracks, &fmp4.InitTrack{ID: ts.id, TimeScale: uint32(ts.t.ClockRate), Codec: c})
	}
	var b seekablebuffer.Buffer
	if err := in.Marshal(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (m *fmp4Muxer) part(video, audio []sample, _ bool, meta [][]byte, start int64) ([]byte, error) {
	m.seq++
	p := fmp4.Part{SequenceNumber: m.seq}
	if len(video) > 0 {
		pt := &fmp4.PartTrack{ID: m.video.id, BaseTime: uint64(video[0].dts)}
		for _, s := range video {
			fs := &fmp4.Sample{Duration: uint32(s.dur), PTSOffset: int32(s.pts - s.dts), IsNonSyncSample: !s.u.Key}
			switch m.video.t.Codec {
			case media.AV1:
				fs.Payload = s.u.Payload
			default:
				b, err := h264.AVCC(withoutAUD(s.u.NALUs, m.video.t.Codec)).Marshal()
				if err != nil {
					return nil, fmt.Errorf("avcc: %w", err)
				}
				fs.Payload = b
			}
			pt.Samples = append(pt.Samples, fs)
		}
		p.Tracks = append(p.Tracks, pt)
	}
	if len(audio) > 0 {
		pt := &fmp4.PartTrack{ID: m.audio.id, BaseTime: uint64(audio[0].dts)}
		for _, s := range audio {
			pt.Samples = append(pt.Samples, &fmp4.Sample{Duration: uint32(s.dur), Payload: s.u.Payload})
		}
		p.Tracks = append(p.Tracks, pt)
	}
	m.buf.Reset()
	if err := p.Marshal(&m.buf); err != nil {
		return nil, err
	}
	lead := m.video
	if lead == nil {
		lead = m.audio
	}
	var out []byte
	for _, tag := range meta {
		m.emsgID++
		out = appendEmsg(out, uint32(lead.t.ClockRate), uint64(start), m.emsgID, tag)
	}
	out = append(out, m.buf.Bytes()...)
	return out, nil
}

// withoutAUD drops access unit delimiters, which fMP4 does not carry.
func withoutAUD(nalus [][]byte, c media.Codec) [][]byte {
	for i, n := range nalus {
		if len(n) > 0 && isAUD(n, c) {
			out := make([][]byte, 0, len(nalus)-1)
			out = append(out, nalus[:i]...)
			for _, m := range nalus[i+1:] {
				if len(m) > 0 && !isAUD(m, c) {
					out = append(out, m)
				}
			}
			return out
		}
	}
	return nalus
}

func isAUD(n []byte, c media.Codec) bool {
	if c == media.H265 {
		return (n[0]>>1)&0x3f == 35
	}
	return n[0]&0x1f == 9
}
