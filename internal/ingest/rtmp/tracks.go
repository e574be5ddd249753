package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/stagecast/stagecast/internal/media"
)

// Limits on what is carried from one access unit to the next.
const (
	// maxPendingNALUs and maxPendingBytes bound the parameter sets (SPS, PPS,
	// VPS, SEI) kept from a configuration message until the next picture:
	// a real encoder sends 2-4 small ones.
	maxPendingNALUs = 16
	maxPendingBytes = 64 << 10
	// videoClockRate is the clock of every video track.
	videoClockRate = 90000
)

// errUnsupportedCodec wraps a codec the platform does not carry.
var errUnsupportedCodec = errors.New("unsupported codec")

// mediaTracks describes the publisher's tracks. av1Config is an AV1
// low-overhead bitstream holding the sequence header (a key frame's
// temporal unit or the sequence start's configOBUs), if any.
func mediaTracks(in []*gortmplib.Track, av1Config []byte) ([]media.Track, error) {
	out := make([]media.Track, 0, len(in))
	for i, t := range in {
		mt := media.Track{ID: i}
		switch c := t.Codec.(type) {
		case *codecs.H264:
			mt.Kind, mt.Codec, mt.ClockRate = media.Video, media.H264, videoClockRate
			mt.SPS, mt.PPS = c.SPS, c.PPS
			var sps h264.SPS
			if err := sps.Unmarshal(c.SPS); err != nil {
				return nil, fmt.Errorf("track %d: invalid H.264 SPS: %w", i, err)
			}
			mt.Width, mt.Height = sps.Width(), sps.Height()
		case *codecs.H265:
			mt.Kind, mt.Codec, mt.ClockRate = media.Video, media.H265, videoClockRate
			mt.VPS, mt.SPS, mt.PPS = c.VPS, c.SPS, c.PPS
			var sps h265.SPS
			if err := sps.Unmarshal(c.SPS); err != nil {
				return nil, fmt.Errorf("track %d: invalid H.265 SPS: %w", i, err)
			}
			mt.Width, mt.Height = sps.Width(), sps.Height()
		case *codecs.AV1:
			mt.Kind, mt.Codec, mt.ClockRate = media.Video, media.AV1, videoClockRate
			mt.AV1Config, mt.Width, mt.Height = av1SequenceHeader(av1Config)
		case *codecs.MPEG4Audio:
			if c.Config == nil {
				return nil, fmt.Errorf("track %d: AAC without AudioSpecificConfig", i)
			}
			cfg, err := c.Config.Marshal()
			if err != nil {
				return nil, fmt.Errorf("track %d: invalid AAC config: %w", i, err)
			}
			mt.Kind, mt.Codec = media.Audio, media.AAC
			mt.AACConfig = cfg
			mt.SampleRate, mt.ClockRate = c.Config.SampleRate, c.Config.SampleRate
			mt.Channels = aacChannels(c.Config)
			if mt.SampleRate <= 0 {
				return nil, fmt.Errorf("track %d: AAC sample rate %d", i, mt.SampleRate)
			}
		case *codecs.Opus:
			mt.Kind, mt.Codec, mt.ClockRate, mt.SampleRate = media.Audio, media.Opus, 48000, 48000
			mt.Channels = 2
			if c.IDHeader != nil {
				mt.Channels = int(c.IDHeader.ChannelCount)
			}
		default:
			return nil, fmt.Errorf("track %d: %w %s", i, errUnsupportedCodec, codecName(t.Codec))
		}
		out = append(out, mt)
	}
	return out, nil
}

func codecName(c codecs.Codec) string {
	switch c.(type) {
	case *codecs.VP9:
		return "VP9"
	case *codecs.MPEG1Audio:
		return "MP3"
	case *codecs.AC3:
		return "AC-3"
	case *codecs.G711:
		return "G.711"
	case *codecs.LPCM:
		return "LPCM"
	case *codecs.FLAC:
		return "FLAC"
	}
	return fmt.Sprintf("%T", c)
}

func aacChannels(c *mpeg4audio.AudioSpecificConfig) int {
	switch {
	case c.ChannelConfig >= 1 && c.ChannelConfig <= 6:
		return int(c.ChannelConfig)
	case c.ChannelConfig == 7:
		return 8
	}
	return c.ChannelCount //nolint:staticcheck // set by older parsers for PCE layouts
}

// av1SequenceHeader finds the sequence header OBU in a low-overhead
// bitstream (av1C configOBUs, a temporal unit) and returns it, without its
// size field, with the picture size (nil, 0, 0 when absent or invalid).
func av1SequenceHeader(obus []byte) ([]byte, int, int) {
	if len(obus) == 0 {
		return nil, 0, 0
	}
	var bs av1.Bitstream
	if err := bs.Unmarshal(obus); err != nil {
		return nil, 0, 0
	}
	for _, obu := range bs {
		if len(obu) == 0 || av1.OBUType((obu[0]>>3)&0b1111) != av1.OBUTypeSequenceHeader {
			continue
		}
		var sh av1.SequenceHeader
		if err := sh.Unmarshal(obu); err != nil {
			return nil, 0, 0
		}
		return obu, sh.Width(), sh.Height()
	}
	return nil, 0, 0
}

// av1Payload is a temporal unit as a low-overhead bitstream (OBUs with
// size fields) without temporal delimiters, as ISOBMFF and RTP carry it.
func av1Payload(tu [][]byte) ([]byte, error) {
	obus := make([][]byte, 0, len(tu))
	for _, o := range tu {
		if len(o) > 0 && av1.OBUType((o[0]>>3)&0b1111) != av1.OBUTypeTemporalDelimiter {
			obus = append(obus, o)
		}
	}
	if len(obus) == 0 {
		return nil, errors.New("temporal unit without OBUs")
	}
	return av1.Bitstream(obus).Marshal()
}

// h26xUnits turns H.264/H.265 access units into media units. Parameter
// sets that arrive alone (a configuration message) are held and prepended
// to the next picture, so every unit holds a picture.
type h26xUnits struct {
	track        int
	hevc         bool
	pending      [][]byte
	pendingBytes int
}

func (c *h26xUnits) unit(pts, dts time.Duration, au [][]byte, now time.Time) *media.Unit {
	nalus := make([][]byte, 0, len(c.pending)+len(au))
	nalus = append(nalus, c.pending...)
	picture, key := false, false
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if c.hevc {
			typ := h265.NALUType((n[0] >> 1) & 0b111111)
			if typ == h265.NALUType_AUD_NUT {
				continue
			}
			if typ < 32 {
				picture = true
				key = key || (typ >= h265.NALUType_BLA_W_LP && typ <= h265.NALUType_CRA_NUT)
			}
		} else {
			typ := h264.NALUType(n[0] & 0x1f)
			if typ == h264.NALUTypeAccessUnitDelimiter {
				continue
			}
			if typ >= h264.NALUTypeNonIDR && typ <= h264.NALUTypeIDR {
				picture = true
				key = key || typ == h264.NALUTypeIDR
			}
		}
		nalus = append(nalus, n)
	}
	if !picture {
		// Keep parameter sets for the next picture, within bounds.
		c.pending = c.pending[:0]
		c.pendingBytes = 0
		for _, n := range nalus {
			if len(c.pending) < maxPendingNALUs && c.pendingBytes+len(n) <= maxPendingBytes {
				c.pending = append(c.pending, n)
				c.pendingBytes += len(n)
			}
		}
		return nil
	}
	c.pending, c.pendingBytes = nil, 0
	return &media.Unit{
		Track:   c.track,
		PTS:     media.Ticks(pts, videoClockRate),
		DTS:     media.Ticks(dts, videoClockRate),
		Key:     key,
		NALUs:   nalus,
		Arrival: now,
	}
}

// aacUnits turns AAC frames into media units. RTMP timestamps are whole
// milliseconds, so frame times are rebuilt from the frame count while the
// publisher's time stays within tolerance, and resynchronised after a gap.
type aacUnits struct {
	track     int
	rate      int
	frameLen  int64 // samples per frame
	tolerance int64 // ticks
	next      int64
	started   bool
}

func newAACUnits(track int, t media.Track) *aacUnits {
	frameLen := int64(1024)
	var cfg mpeg4audio.AudioSpecificConfig
	if cfg.Unmarshal(t.AACConfig) == nil && cfg.FrameLengthFlag {
		frameLen = 960
	}
	return &aacUnits{
		track:     track,
		rate:      t.ClockRate,
		frameLen:  frameLen,
		tolerance: int64(t.ClockRate)/500 + 1, // 2 ms: RTMP rounds to 1 ms
	}
}

func (c *aacUnits) unit(pts time.Duration, frame []byte, now time.Time) *media.Unit {
	ts := media.Ticks(pts, c.rate)
	if c.started {
		if d := ts - c.next; d > -c.tolerance && d < c.tolerance {
			ts = c.next
		}
	}
	c.next, c.started = ts+c.frameLen, true
	return &media.Unit{Track: c.track, PTS: ts, DTS: ts, Key: true, Payload: frame, Arrival: now}
}

// attach registers a callback per track on r that converts frames to units
// and hands them to write.
//
// arrival stamps each unit with when it reached the server (see
// msgConn.arrival); frames replayed after the track analysis arrived
// earlier than their callback runs.
func attach(r *gortmplib.Reader, in []*gortmplib.Track, tracks []media.Track, write func(*media.Unit), arrival func(time.Duration) time.Time) {
	for i, t := range in {
		switch t.Codec.(type) {
		case *codecs.H264, *codecs.H265:
			c := &h26xUnits{track: i, hevc: tracks[i].Codec == media.H265}
			cb := func(pts, dts time.Duration, au [][]byte) {
				if u := c.unit(pts, dts, au, arrival(dts)); u != nil {
					write(u)
				}
			}
			if c.hevc {
				r.OnDataH265(t, cb)
			} else {
				r.OnDataH264(t, cb)
			}
		case *codecs.AV1:
			r.OnDataAV1(t, func(pts time.Duration, tu [][]byte) {
				payload, err := av1Payload(tu)
				if err != nil {
					return
				}
				ts := media.Ticks(pts, videoClockRate)
				write(&media.Unit{Track: i, PTS: ts, DTS: ts, Key: av1.IsRandomAccess2(tu), Payload: payload, Arrival: arrival(pts)})
			})
		case *codecs.MPEG4Audio:
			c := newAACUnits(i, tracks[i])
			r.OnDataMPEG4Audio(t, func(pts time.Duration, au []byte) {
				write(c.unit(pts, au, arrival(pts)))
			})
		case *codecs.Opus:
			r.OnDataOpus(t, func(pts time.Duration, pkt []byte) {
				ts := media.Ticks(pts, 48000)
				write(&media.Unit{Track: i, PTS: ts, DTS: ts, Key: true, Payload: pkt, Arrival: arrival(pts)})
			})
		}
	}
}
