package compose

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/substructs"

	"github.com/stagecast/stagecast/internal/media"
)

// unitWriter writes one track's units into a decoder's stdin in the
// container the decoder's ffmpeg arguments name.
type unitWriter interface {
	write(u *media.Unit) error
}

var (
	startCode = []byte{0, 0, 0, 1}
	// audNALU ends every access unit so that ffmpeg's H.264 parser emits
	// it at once instead of waiting for the next one.
	audNALU = []byte{0x09, 0xf0}
)

// annexB writes H.264 access units as an Annex-B byte stream, adding the
// track's SPS and PPS before IDR pictures that lack them.
type annexB struct {
	w        *bufio.Writer
	sps, pps []byte
}

func newAnnexB(w io.Writer, t media.Track) *annexB {
	return &annexB{w: bufio.NewWriterSize(w, 64<<10), sps: t.SPS, pps: t.PPS}
}

func (a *annexB) write(u *media.Unit) error {
	hasSPS, idr := false, false
	for _, n := range u.NALUs {
		if len(n) == 0 {
			continue
		}
		switch n[0] & 0x1f {
		case 7:
			hasSPS = true
		case 5:
			idr = true
		}
	}
	nalus := u.NALUs
	if idr && !hasSPS && len(a.sps) > 0 && len(a.pps) > 0 {
		nalus = append([][]byte{a.sps, a.pps}, nalus...)
	}
	for _, n := range nalus {
		if len(n) == 0 || n[0]&0x1f == 9 { // our AUD ends the unit instead
			continue
		}
		a.w.Write(startCode)
		a.w.Write(n)
	}
	a.w.Write(startCode)
	a.w.Write(audNALU)
	return a.w.Flush()
}

// ivf writes VP8 frames in an IVF file.
type ivf struct {
	w      io.Writer
	header bool
	t      media.Track
}

func (v *ivf) write(u *media.Unit) error {
	if !v.header {
		h := make([]byte, 32)
		copy(h, "DKIF")
		binary.LittleEndian.PutUint16(h[6:], 32)
		copy(h[8:], "VP80")
		binary.LittleEndian.PutUint16(h[12:], uint16(v.t.Width))
		binary.LittleEndian.PutUint16(h[14:], uint16(v.t.Height))
		binary.LittleEndian.PutUint32(h[16:], uint32(max(1, v.t.ClockRate)))
		binary.LittleEndian.PutUint32(h[20:], 1)
		if _, err := v.w.Write(h); err != nil {
			return err
		}
		v.header = true
	}
	f := make([]byte, 12, 12+len(u.Payload))
	binary.LittleEndian.PutUint32(f, uint32(len(u.Payload)))
	binary.LittleEndian.PutUint64(f[4:], uint64(u.PTS))
	_, err := v.w.Write(append(f, u.Payload...))
	return err
}

// tsAudio writes Opus or AAC frames in MPEG-TS.
type tsAudio struct {
	bw    *bufio.Writer
	mw    *mpegts.Writer
	track *mpegts.Track
	t     media.Track
	// base is the first unit's PTS.
	base    int64
	started bool
	last    int64 // last PTS written (90 kHz)
}

func newTSAudio(w io.Writer, t media.Track) (*tsAudio, error) {
	tr := &mpegts.Track{}
	switch t.Codec {
	case media.Opus:
		ch := max(1, t.Channels)
		tr.Codec = &codecs.Opus{Desc: &substructs.OpusAudioDescriptor{ChannelConfigCode: uint8(min(ch, 2))}}
	case media.AAC:
		var cfg mpeg4audio.AudioSpecificConfig
		if err := cfg.Unmarshal(t.AACConfig); err != nil {
			return nil, fmt.Errorf("aac config: %w", err)
		}
		tr.Codec = &codecs.MPEG4Audio{Config: cfg}
	default:
		return nil, fmt.Errorf("audio codec %s is not supported", t.Codec)
	}
	bw := bufio.NewWriterSize(w, 16<<10)
	mw := &mpegts.Writer{W: bw, Tracks: []*mpegts.Track{tr}}
	if err := mw.Initialize(); err != nil {
		return nil, err
	}
	return &tsAudio{bw: bw, mw: mw, track: tr, t: t}, nil
}

func (a *tsAudio) write(u *media.Unit) error {
	// Relative timestamps: RTP-derived ones start anywhere and would wrap
	// MPEG-TS's 33 bits early.
	if !a.started {
		a.base, a.started, a.last = u.PTS, true, -1
	}
	pts := (u.PTS - a.base) * 90000 / int64(max(1, a.t.ClockRate))
	// Strictly increasing, or ffmpeg's muxer drops the decoded frame (a
	// publisher's timestamps may repeat or jump back on a reconnect; the
	// PCM is concatenated anyway).
	if a.started && pts <= a.last {
		pts = a.last + 1
	}
	a.last = pts
	var err error
	if a.t.Codec == media.Opus {
		err = a.mw.WriteOpus(a.track, pts, [][]byte{u.Payload})
	} else {
		err = a.mw.WriteMPEG4Audio(a.track, pts, [][]byte{u.Payload})
	}
	if err != nil {
		return err
	}
	return a.bw.Flush()
}
