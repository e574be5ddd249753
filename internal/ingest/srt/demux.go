package srt

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/stagecast/stagecast/internal/media"
)

// Limits while the codec configuration is not known yet.
const (
	// maxBufferedUnits and maxBufferedBytes bound the media held before
	// Publish (until every video track showed its parameter sets and a key
	// frame): about 10 s of 30 fps video with audio, or 32 MiB.
	maxBufferedUnits = 1000
	maxBufferedBytes = 32 << 20
	// maxParamSetLen bounds an SPS/PPS/VPS kept for the track description.
	maxParamSetLen = 4096
	videoClockRate = 90000
	// timelineOffset (90 kHz) is added to every timestamp: the first one
	// seen becomes 1 s, so units muxed up to 1 s behind it (audio
	// interleaving, B-frame decode delay) keep a positive time. Units
	// earlier still are dropped.
	timelineOffset = 90000
)

var errUnsupportedCodec = errors.New("unsupported codec")

// demuxer turns mpegts.Reader callbacks into media units. Until live is
// set it buffers them (bounded) and completes the track descriptions from
// in-band parameter sets.
type demuxer struct {
	tracks  []media.Track
	in      []*mpegts.Track
	seenKey []bool
	td      mpegts.TimeDecoder

	live     func(*media.Unit)
	buf      []*media.Unit
	bufBytes int
	overflow bool
}

// newDemuxer describes the supported tracks of a transport stream; data
// tracks (KLV, subtitles) are ignored, other audio/video codecs refused.
func newDemuxer(in []*mpegts.Track) (*demuxer, error) {
	d := &demuxer{}
	for _, t := range in {
		mt := media.Track{ID: len(d.tracks)}
		switch c := t.Codec.(type) {
		case *mpegts.CodecH264:
			mt.Kind, mt.Codec, mt.ClockRate = media.Video, media.H264, videoClockRate
		case *mpegts.CodecH265:
			mt.Kind, mt.Codec, mt.ClockRate = media.Video, media.H265, videoClockRate
		case *mpegts.CodecMPEG4Audio:
			cfg, err := c.Config.Marshal()
			if err != nil {
				return nil, fmt.Errorf("PID %d: invalid AAC config: %w", t.PID, err)
			}
			mt.Kind, mt.Codec, mt.AACConfig = media.Audio, media.AAC, cfg
			mt.SampleRate, mt.ClockRate = c.Config.SampleRate, c.Config.SampleRate
			mt.Channels = aacChannels(int(c.Config.ChannelConfig), c.Config.ChannelCount) //nolint:staticcheck // PCE layouts
			if mt.SampleRate <= 0 {
				return nil, fmt.Errorf("PID %d: AAC sample rate %d", t.PID, mt.SampleRate)
			}
		case *mpegts.CodecKLV, *mpegts.CodecDVBSubtitle, *mpegts.CodecUnsupported:
			continue
		default:
			return nil, fmt.Errorf("PID %d: %w %T", t.PID, errUnsupportedCodec, t.Codec)
		}
		d.tracks = append(d.tracks, mt)
		d.in = append(d.in, t)
	}
	if len(d.tracks) == 0 {
		return nil, fmt.Errorf("%w: no H.264, H.265 or AAC track in the stream", errUnsupportedCodec)
	}
	d.seenKey = make([]bool, len(d.tracks))
	return d, nil
}

func aacChannels(config, count int) int {
	switch {
	case config >= 1 && config <= 6:
		return config
	case config == 7:
		return 8
	}
	return count
}

// attach registers the reader callbacks.
func (d *demuxer) attach(r *mpegts.Reader) {
	for i, t := range d.in {
		switch d.tracks[i].Codec {
		case media.H264, media.H265:
			cb := func(pts, dts int64, au [][]byte) error {
				d.video(i, pts, dts, au)
				return nil
			}
			if d.tracks[i].Codec == media.H265 {
				r.OnDataH265(t, cb)
			} else {
				r.OnDataH264(t, cb)
			}
		case media.AAC:
			clock := newAACClock(d.tracks[i].ClockRate)
			r.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error {
				now := time.Now()
				base := (d.td.Decode(pts) + timelineOffset) * int64(d.tracks[i].ClockRate) / 90000
				for n, au := range aus {
					ts := clock.next(base + int64(n)*clock.frameLen)
					d.emit(&media.Unit{Track: i, PTS: ts, DTS: ts, Key: true, Payload: au, Arrival: now})
				}
				return nil
			})
		}
	}
}

func (d *demuxer) video(i int, pts, dts int64, au [][]byte) {
	now := time.Now()
	// DTS first: it is the earlier of the two.
	dts = d.td.Decode(dts) + timelineOffset
	pts = d.td.Decode(pts) + timelineOffset
	if dts < 0 {
		return
	}
	tr := &d.tracks[i]
	hevc := tr.Codec == media.H265
	key := false
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if hevc {
			switch typ := h265.NALUType((n[0] >> 1) & 0b111111); {
			case typ == h265.NALUType_VPS_NUT:
				d.param(&tr.VPS, n)
			case typ == h265.NALUType_SPS_NUT:
				if d.param(&tr.SPS, n) {
					var sps h265.SPS
					if sps.Unmarshal(n) == nil {
						tr.Width, tr.Height = sps.Width(), sps.Height()
					}
				}
			case typ == h265.NALUType_PPS_NUT:
				d.param(&tr.PPS, n)
			case typ >= h265.NALUType_BLA_W_LP && typ <= h265.NALUType_CRA_NUT:
				key = true
			}
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			if d.param(&tr.SPS, n) {
				var sps h264.SPS
				if sps.Unmarshal(n) == nil {
					tr.Width, tr.Height = sps.Width(), sps.Height()
				}
			}
		case h264.NALUTypePPS:
			d.param(&tr.PPS, n)
		case h264.NALUTypeIDR:
			key = true
		}
	}
	if !d.seenKey[i] {
		if !key {
			return // undecodable before the first key frame
		}
		d.seenKey[i] = true
	}
	d.emit(&media.Unit{Track: i, PTS: pts, DTS: dts, Key: key, NALUs: au, Arrival: now})
}

// param records a parameter set while the tracks are not published yet;
// it reports whether the value changed.
func (d *demuxer) param(dst *[]byte, n []byte) bool {
	if d.live != nil || len(n) > maxParamSetLen || bytes.Equal(*dst, n) {
		return false
	}
	*dst = append([]byte(nil), n...)
	return true
}

func (d *demuxer) emit(u *media.Unit) {
	if u.DTS < 0 {
		// Earlier than the first timestamp of the stream (audio muxed
		// behind the first picture): dropped so that no consumer sees a
		// negative decode time.
		return
	}
	if d.live != nil {
		d.live(u)
		return
	}
	if len(d.buf) >= maxBufferedUnits || d.bufBytes+u.Size() > maxBufferedBytes {
		d.overflow = true
		return
	}
	d.buf = append(d.buf, u)
	d.bufBytes += u.Size()
}

// ready reports whether every video track has its parameter sets and a key
// frame (or, audio only, whether a frame arrived).
func (d *demuxer) ready() bool {
	video := false
	for i, t := range d.tracks {
		if t.Kind != media.Video {
			continue
		}
		video = true
		if !d.seenKey[i] || len(t.SPS) == 0 || len(t.PPS) == 0 || (t.Codec == media.H265 && len(t.VPS) == 0) {
			return false
		}
	}
	return video || len(d.buf) > 0
}

// goLive hands the buffered units to write and sends later ones straight
// to it.
func (d *demuxer) goLive(write func(*media.Unit)) {
	for _, u := range d.buf {
		write(u)
	}
	d.buf, d.bufBytes = nil, 0
	d.live = write
}

// aacClock keeps AAC frame times on the frame grid while the stream's
// timestamps stay within a tolerance, and resynchronises after a gap.
type aacClock struct {
	frameLen  int64
	tolerance int64
	nextTS    int64
	started   bool
}

func newAACClock(rate int) *aacClock {
	return &aacClock{frameLen: 1024, tolerance: int64(rate)/500 + 1}
}

func (c *aacClock) next(ts int64) int64 {
	if c.started {
		if d := ts - c.nextTS; d > -c.tolerance && d < c.tolerance {
			ts = c.nextTS
		}
	}
	c.nextTS, c.started = ts+c.frameLen, true
	return ts
}
