package cmaftest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// maxUnits bounds a demuxed recording (about a minute of 30 fps video
// with 48 kHz AAC) so a bad file cannot exhaust memory in a test.
const maxUnits = 20000

// Source is a demuxed recording.
type Source struct {
	Tracks []media.Track
	Units  []*media.Unit
}

// Demux reads an MPEG-TS stream with an H.264 or H.265 track and an AAC
// or Opus track.
func Demux(ts []byte) (*Source, error) {
	r := &mpegts.Reader{R: bytes.NewReader(ts)}
	if err := r.Initialize(); err != nil {
		return nil, fmt.Errorf("mpegts: %w", err)
	}
	src := &Source{}
	for _, tr := range r.Tracks() {
		switch c := tr.Codec.(type) {
		case *mpegts.CodecH264:
			id := len(src.Tracks)
			src.Tracks = append(src.Tracks, media.Track{ID: id, Kind: media.Video, Codec: media.H264, ClockRate: 90000})
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error {
				if len(src.Units) >= maxUnits {
					return errors.New("too many units")
				}
				src.Units = append(src.Units, &media.Unit{Track: id, PTS: pts, DTS: dts, Key: h264.IsRandomAccess(au), NALUs: au})
				return nil
			})
		case *mpegts.CodecH265:
			id := len(src.Tracks)
			src.Tracks = append(src.Tracks, media.Track{ID: id, Kind: media.Video, Codec: media.H265, ClockRate: 90000})
			r.OnDataH265(tr, func(pts, dts int64, au [][]byte) error {
				if len(src.Units) >= maxUnits {
					return errors.New("too many units")
				}
				src.Units = append(src.Units, &media.Unit{Track: id, PTS: pts, DTS: dts, Key: h265.IsRandomAccess(au), NALUs: au})
				return nil
			})
		case *mpegts.CodecOpus:
			id := len(src.Tracks)
			src.Tracks = append(src.Tracks, media.Track{ID: id, Kind: media.Audio, Codec: media.Opus, ClockRate: 48000,
				SampleRate: 48000, Channels: c.ChannelCount}) //nolint:staticcheck
			r.OnDataOpus(tr, func(pts int64, packets [][]byte) error {
				t := pts * 48000 / 90000
				for _, p := range packets {
					if len(src.Units) >= maxUnits {
						return errors.New("too many units")
					}
					src.Units = append(src.Units, &media.Unit{Track: id, PTS: t, DTS: t, Key: true, Payload: p})
					t += 960 // 20 ms, libopus' default frame
				}
				return nil
			})
		case *mpegts.CodecMPEG4Audio:
			id := len(src.Tracks)
			conf, err := c.Config.Marshal()
			if err != nil {
				return nil, err
			}
			sr := c.Config.SampleRate
			src.Tracks = append(src.Tracks, media.Track{ID: id, Kind: media.Audio, Codec: media.AAC, ClockRate: sr,
				AACConfig: conf, SampleRate: sr, Channels: int(c.Config.ChannelConfig)})
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				base := pts * int64(sr) / 90000
				for i, au := range aus {
					if len(src.Units) >= maxUnits {
						return errors.New("too many units")
					}
					t := base + int64(i*1024)
					src.Units = append(src.Units, &media.Unit{Track: id, PTS: t, DTS: t, Key: true, Payload: au})
				}
				return nil
			})
		}
	}
	for {
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	// A live encoder sends in decode order across tracks; ffmpeg's
	// MPEG-TS muxer batches audio, so restore that order.
	slices.SortStableFunc(src.Units, func(a, b *media.Unit) int {
		return cmp.Compare(src.Time(a), src.Time(b))
	})
	// Hubs carry parameter sets in the track (as RTMP ingest does).
	for _, u := range src.Units {
		t := &src.Tracks[u.Track]
		if t.Kind != media.Video || !u.Key || len(t.SPS) > 0 {
			continue
		}
		if t.Codec == media.H265 {
			for _, n := range u.NALUs {
				switch h265.NALUType((n[0] >> 1) & 0x3f) {
				case h265.NALUType_VPS_NUT:
					t.VPS = n
				case h265.NALUType_SPS_NUT:
					t.SPS = n
					var sps h265.SPS
					if sps.Unmarshal(n) == nil {
						t.Width, t.Height = sps.Width(), sps.Height()
					}
				case h265.NALUType_PPS_NUT:
					t.PPS = n
				}
			}
			continue
		}
		for _, n := range u.NALUs {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				t.SPS = n
				var sps h264.SPS
				if sps.Unmarshal(n) == nil {
					t.Width, t.Height = sps.Width(), sps.Height()
				}
			case h264.NALUTypePPS:
				t.PPS = n
			}
		}
	}
	return src, nil
}

// Time returns the unit's decode time.
func (s *Source) Time(u *media.Unit) time.Duration {
	return media.Duration(u.DTS, s.Tracks[u.Track].ClockRate)
}

// Feed writes the units into hub, paced so that media time advances
// speed times faster than wall time (speed <= 0: as fast as possible).
// Each unit's Arrival is set to when it is written. It returns when all
// units are written or ctx ends. Feed copies units, so a Source can feed
// several hubs.
func (s *Source) Feed(ctx context.Context, hub *stream.Hub, speed float64) error {
	if len(s.Units) == 0 {
		return nil
	}
	start := time.Now()
	t0 := s.Time(s.Units[0])
	var timer *time.Timer
	for _, u := range s.Units {
		if speed > 0 {
			due := start.Add(time.Duration(float64(s.Time(u)-t0) / speed))
			if d := time.Until(due); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-ctx.Done():
					timer.Stop()
					return ctx.Err()
				case <-timer.C:
				}
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		c := *u
		c.Arrival = time.Now()
		hub.Write(&c)
	}
	return nil
}
