package transcode

import (
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/media"
)

// maxDemuxUnits bounds DemuxTS: a 30 s 60 fps file with its audio is
// about 3,300 units; ten minutes of it stays far below this, and a
// corrupt or hostile input cannot grow the slice without bound.
const maxDemuxUnits = 200_000

// ErrTooManyUnits is returned by DemuxTS past maxDemuxUnits.
var ErrTooManyUnits = errors.New("mpeg-ts input has too many units")

// DemuxTS reads a whole MPEG-TS stream (H.264 and AAC; other tracks are
// ignored) into tracks and units with the stream's own timestamps, for
// benchmarks and tests that feed a file through a hub. Track IDs follow
// the PMT order. H.264 parameter sets of the first key frame are copied
// into the track.
func DemuxTS(r io.Reader) ([]media.Track, []*media.Unit, error) {
	tr := &mpegts.Reader{R: r}
	if err := tr.Initialize(); err != nil {
		return nil, nil, fmt.Errorf("read mpeg-ts: %w", err)
	}
	var tracks []media.Track
	var units []*media.Unit
	var videoID = -1
	var tooMany bool
	add := func(u *media.Unit) error {
		if len(units) >= maxDemuxUnits {
			tooMany = true
			return ErrTooManyUnits
		}
		units = append(units, u)
		return nil
	}
	var td mpegts.TimeDecoder
	var base int64
	first := true
	ts := func(raw int64) int64 {
		v := td.Decode(raw)
		if first {
			// Keep the stream's own starting time.
			base, first = raw, false
		}
		return base + v
	}
	for _, t := range tr.Tracks() {
		switch c := t.Codec.(type) {
		case *tscodecs.H264:
			if videoID >= 0 {
				continue
			}
			videoID = len(tracks)
			id := videoID
			tracks = append(tracks, media.Track{ID: id, Kind: media.Video, Codec: media.H264, ClockRate: tsClock})
			tr.OnDataH264(t, func(pts, dts int64, au [][]byte) error {
				au = stripAUD(au)
				if len(au) == 0 {
					return nil
				}
				key := h264.IsRandomAccess(au)
				if key && tracks[id].SPS == nil {
					for _, n := range au {
						switch h264.NALUType(n[0] & 0x1f) {
						case h264.NALUTypeSPS:
							tracks[id].SPS = append([]byte(nil), n...)
							var sps h264.SPS
							if sps.Unmarshal(n) == nil {
								tracks[id].Width, tracks[id].Height = sps.Width(), sps.Height()
							}
						case h264.NALUTypePPS:
							tracks[id].PPS = append([]byte(nil), n...)
						}
					}
				}
				d := ts(dts)
				return add(&media.Unit{Track: id, PTS: d + (pts - dts), DTS: d, Key: key, NALUs: au})
			})
		case *tscodecs.MPEG4Audio:
			conf, err := c.Config.Marshal()
			if err != nil || c.Config.SampleRate <= 0 {
				continue
			}
			id := len(tracks)
			rate := c.Config.SampleRate
			tracks = append(tracks, media.Track{ID: id, Kind: media.Audio, Codec: media.AAC, ClockRate: rate,
				AACConfig: conf, Channels: int(c.Config.ChannelConfig), SampleRate: rate})
			tr.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error {
				p := ts(pts) * int64(rate) / tsClock
				for i, au := range aus {
					if err := add(&media.Unit{Track: id, PTS: p + int64(i*1024), DTS: p + int64(i*1024), Key: true, Payload: au}); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	if videoID < 0 && len(tracks) == 0 {
		return nil, nil, errors.New("mpeg-ts input has no H.264 or AAC track")
	}
	for {
		err := tr.Read()
		if tooMany {
			return nil, nil, ErrTooManyUnits
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read mpeg-ts: %w", err)
		}
	}
	return tracks, units, nil
}
