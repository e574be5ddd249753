package recording

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/stagecast/stagecast/internal/media"
)

const (
	// tsClock is MPEG-TS's 90 kHz clock.
	tsClock = 90000
	// timelineStart is where a recording's timeline begins (10 s), so that
	// PCR (DTS minus a small lead) never goes negative.
	timelineStart = 10 * tsClock
	// maxSegmentBytes cuts a segment even without a key frame: a source that
	// never sends one must not grow a segment without bound. 64 MiB is a
	// minute of 8 Mbit/s video.
	maxSegmentBytes = 64 << 20
	// defaultFrameTicks is the assumed duration of the last video frame
	// before a second one gives the real delta (30 fps).
	defaultFrameTicks = tsClock / 30
)

// segment is one finished MPEG-TS segment.
type segment struct {
	data          []byte
	duration      time.Duration
	discontinuity bool
}

// segmenter muxes one rendition's units into MPEG-TS segments cut at key
// frames once the target duration is reached. Every segment starts with
// PAT/PMT and a key frame (with its parameter sets), so it decodes alone.
// Timestamps are rewritten onto the recording's timeline: the first unit
// of a stream lands at the rendition's timeline end (where the previous
// stream of the same recording stopped).
type segmenter struct {
	target time.Duration
	tracks []media.Track
	video  int // index in tracks, -1 when none
	audio  int // index in tracks, -1 when none
	aac    *mpeg4audio.Config

	// Timeline mapping: out = in(90 kHz) - inBase + outBase.
	based           bool
	inBase, outBase int64

	buf      bytes.Buffer
	w        *mpegts.Writer
	vt, at   *mpegts.Track
	open     bool
	segStart int64 // 90 kHz, timeline
	end      int64 // end of the last unit written, timeline
	lastDTS  int64 // timeline DTS of the timing track's last unit
	frameDur int64
	nextDisc bool // the next segment follows a gap
	curDisc  bool // the open segment follows a gap
}

// errNoTracks is returned when a stream has no track the recorder can mux.
var errNoTracks = errors.New("no H.264, H.265 or AAC track to record")

// newSegmenter prepares a segmenter for tracks; timelineEnd is where the
// first unit is placed, discontinuity marks the first segment.
func newSegmenter(tracks []media.Track, target time.Duration, timelineEnd int64, discontinuity bool) (*segmenter, error) {
	s := &segmenter{target: target, tracks: tracks, video: -1, audio: -1, outBase: timelineEnd,
		end: timelineEnd, frameDur: defaultFrameTicks, nextDisc: discontinuity}
	for i, t := range tracks {
		switch {
		case t.Kind == media.Video && s.video < 0 && (t.Codec == media.H264 || t.Codec == media.H265):
			s.video = i
		case t.Kind == media.Audio && s.audio < 0 && t.Codec == media.AAC && len(t.AACConfig) > 0:
			var c mpeg4audio.Config
			if err := c.Unmarshal(t.AACConfig); err != nil {
				continue
			}
			s.audio, s.aac = i, &c
		}
	}
	if s.video < 0 && s.audio < 0 {
		return nil, errNoTracks
	}
	return s, nil
}

// toTS converts ticks of clock to 90 kHz.
func toTS(ticks int64, clock int) int64 {
	if clock == tsClock || clock <= 0 {
		return ticks
	}
	return ticks * tsClock / int64(clock)
}

// push adds a unit; it returns a finished segment when the unit started a
// new one.
func (s *segmenter) push(u *media.Unit) (*segment, error) {
	var kind int
	switch u.Track {
	case s.video:
		kind = 1
		if len(u.NALUs) == 0 {
			return nil, nil
		}
	case s.audio:
		kind = 2
		if len(u.Payload) == 0 {
			return nil, nil
		}
	default:
		return nil, nil
	}
	clock := s.tracks[u.Track].ClockRate
	dts := toTS(u.DTS, clock)
	pts := toTS(u.PTS, clock)
	if !s.based {
		if kind == 2 && s.video >= 0 {
			return nil, nil // wait for the first video key frame
		}
		if kind == 1 && !u.Key {
			return nil, nil
		}
		s.based, s.inBase = true, dts
	}
	dts = dts - s.inBase + s.outBase
	pts = pts - s.inBase + s.outBase
	// The timing track (video, or audio when there is none) leads: when
	// its clock leaps far past the timeline's end or steps back, the
	// timeline continues where it ended, after a discontinuity. The other
	// track's units far from the timeline's end are dropped until the
	// timing track follows; audio that goes on while the video pauses
	// moves the end along, so it is kept, and so is the video after it.
	timing := kind == 1 || s.video < 0
	if s.lastDTS != 0 {
		ahead := media.Duration(dts-s.end, tsClock)
		switch {
		case timing && (ahead > media.MaxTimestampJump || media.Duration(dts-s.lastDTS, tsClock) < -media.MaxTimestampStepBack):
			shift := s.end - dts
			s.inBase -= shift
			dts, pts = dts+shift, pts+shift
			s.nextDisc = true
		case !timing && (ahead > media.MaxTimestampJump || ahead < -media.MaxTimestampJump):
			return nil, nil
		}
	}
	if u.Discontinuity {
		s.nextDisc = true
	}
	// A cut point: a video key frame, or any audio frame of an audio-only
	// stream.
	cutPoint := kind == 1 && u.Key || s.video < 0
	var done *segment
	switch {
	case s.open && cutPoint && s.nextDisc:
		done = s.finish(s.end) // the gap is not part of the segment
	case s.open && cutPoint && media.Duration(dts-s.segStart, tsClock) >= s.target:
		done = s.finish(dts)
	case s.open && s.buf.Len() >= maxSegmentBytes:
		done = s.finish(s.end) // no key frame for far too long
	}
	if !s.open {
		if err := s.start(dts); err != nil {
			return done, err
		}
	}
	if delta := dts - s.lastDTS; kind == 1 && s.lastDTS != 0 && delta > 0 && delta < tsClock {
		s.frameDur = delta
	}
	if timing {
		s.lastDTS = dts
	}
	var err error
	if kind == 1 {
		err = s.writeVideo(u, pts, dts)
		s.end = max(s.end, dts+s.frameDur)
	} else {
		err = s.w.WriteMPEG4Audio(s.at, pts, [][]byte{u.Payload})
		s.end = max(s.end, pts+toTS(1024, s.aac.SampleRate))
	}
	if err != nil {
		return done, fmt.Errorf("mux unit: %w", err)
	}
	return done, nil
}

func (s *segmenter) start(dts int64) error {
	s.buf.Reset()
	if s.w != nil && !s.nextDisc {
		// One writer for the whole run keeps the continuity counters
		// going from segment to segment, so players that read the
		// playlist as one transport stream see no corrupt packets; the
		// writer repeats PAT/PMT at every key frame, so each segment
		// still starts with its tables.
		s.open, s.segStart = true, dts
		s.curDisc, s.nextDisc = s.nextDisc, false
		return nil
	}
	var tracks []*mpegts.Track
	s.vt, s.at = nil, nil
	if s.video >= 0 {
		var c mpegts.Codec = &mpegts.CodecH264{}
		if s.tracks[s.video].Codec == media.H265 {
			c = &mpegts.CodecH265{}
		}
		s.vt = &mpegts.Track{PID: 256, Codec: c}
		tracks = append(tracks, s.vt)
	}
	if s.audio >= 0 {
		s.at = &mpegts.Track{PID: 257, Codec: &mpegts.CodecMPEG4Audio{Config: *s.aac}}
		tracks = append(tracks, s.at)
	}
	s.w = &mpegts.Writer{W: &s.buf, Tracks: tracks}
	if err := s.w.Initialize(); err != nil {
		return fmt.Errorf("start segment: %w", err)
	}
	s.open, s.segStart = true, dts
	s.curDisc, s.nextDisc = s.nextDisc, false
	return nil
}

func (s *segmenter) writeVideo(u *media.Unit, pts, dts int64) error {
	t := s.tracks[s.video]
	au := nonEmpty(u.NALUs)
	if len(au) == 0 {
		return nil
	}
	if t.Codec == media.H265 {
		if u.Key && !hasNALU(au, func(b []byte) bool { return h265.NALUType((b[0]>>1)&0x3f) == h265.NALUType_SPS_NUT }) {
			au = prependParams(au, t.VPS, t.SPS, t.PPS)
		}
		return s.w.WriteH265(s.vt, pts, dts, au)
	}
	if u.Key && !hasNALU(au, func(b []byte) bool { return h264.NALUType(b[0]&0x1f) == h264.NALUTypeSPS }) {
		au = prependParams(au, t.SPS, t.PPS)
	}
	return s.w.WriteH264(s.vt, pts, dts, au)
}

// nonEmpty drops zero-length NAL units (the TS writer reads each one's
// first byte); it copies only when it has to.
func nonEmpty(au [][]byte) [][]byte {
	for i, n := range au {
		if len(n) == 0 {
			out := append([][]byte(nil), au[:i]...)
			for _, m := range au[i+1:] {
				if len(m) > 0 {
					out = append(out, m)
				}
			}
			return out
		}
	}
	return au
}

func hasNALU(au [][]byte, is func([]byte) bool) bool {
	for _, n := range au {
		if len(n) > 0 && is(n) {
			return true
		}
	}
	return false
}

// prependParams puts parameter sets (those that are set) before au.
func prependParams(au [][]byte, params ...[]byte) [][]byte {
	out := make([][]byte, 0, len(au)+len(params))
	for _, p := range params {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	for _, n := range au {
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// finish closes the open segment at end (90 kHz, timeline).
func (s *segmenter) finish(end int64) *segment {
	if !s.open {
		return nil
	}
	s.open = false
	if s.buf.Len() == 0 {
		return nil
	}
	d := end - s.segStart
	if d <= 0 {
		d = s.frameDur
	}
	seg := &segment{data: bytes.Clone(s.buf.Bytes()), duration: media.Duration(d, tsClock), discontinuity: s.curDisc}
	return seg
}

// markGap flags the open (or next) segment as following a gap: the
// previous segment was lost.
func (s *segmenter) markGap() {
	if s.open {
		s.curDisc = true
	} else {
		s.nextDisc = true
	}
}

// flush finishes the last segment (the stream ended).
func (s *segmenter) flush() *segment { return s.finish(s.end) }

// timelineEnd is where the next stream of the recording continues.
func (s *segmenter) timelineEnd() int64 { return s.end }
