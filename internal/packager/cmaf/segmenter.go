package cmaf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// timelineStart is where the rebased timeline begins: far enough from 0
// that B-frame DTS before the first PTS and audio that precedes the first
// key frame stay positive.
const timelineStart = 10 * time.Second

// Options tune a Segmenter; zero fields take the rendition's store
// options.
type Options struct {
	PartTarget    time.Duration
	SegmentTarget time.Duration
	Log           *slog.Logger
	// Latency, when set, receives for every unit the time from its
	// Arrival to the publication of the part that holds it (benchmarks,
	// metrics). It runs on the segmenter's goroutine.
	Latency func(time.Duration)
}

// Segmenter cuts one rendition into parts and segments.
type Segmenter struct {
	r    *stream.Reader
	dst  *segstore.Rendition
	opts Options
	log  *slog.Logger
	mux  muxer

	lead  *trackState // video if any, else audio
	video *trackState
	audio *trackState
	byID  map[int]*trackState

	started   bool
	inited    bool
	partStart int64 // lead clock, timeline (DTS)
	segStart  int64 // PTS of the key frame that opened the segment
	frameEst  int64
	endNs     time.Duration // timeline end reached so far
	newSeg    bool          // next part opens a segment
	wall      time.Time     // wall clock at timeline position tlAnchor
	tlAnchor  time.Duration
	partTgt   int64
	segTgt    int64

	parts, discs int // counters for the stop log

	// metaMu guards meta (InsertMetadata runs on API goroutines).
	metaMu sync.Mutex
	meta   [][]byte
}

type trackState struct {
	t        media.Track
	id       int // fMP4 track ID
	off      int64
	held     *sample
	pending  []sample
	lastDur  int64
	lastDTS  int64
	haveLast bool
}

type sample struct {
	u        *media.Unit
	dts, pts int64 // timeline, track clock
	dur      int64
}

// ErrNoTracks is returned by New when tracks hold no usable video or
// audio track.
var ErrNoTracks = errors.New("no supported video or audio track")

// New returns a segmenter reading r (whose units belong to tracks, as
// hub.Tracks() returns them) into dst. The container (fMP4 or TS) is
// dst's channel's.
func New(r *stream.Reader, tracks []media.Track, dst *segstore.Rendition, opts Options) (*Segmenter, error) {
	so := dst.Channel().Options()
	if opts.PartTarget <= 0 {
		opts.PartTarget = so.PartTarget
	}
	if opts.SegmentTarget <= 0 {
		opts.SegmentTarget = so.SegmentTarget
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Segmenter{r: r, dst: dst, opts: opts, byID: map[int]*trackState{}, endNs: timelineStart, newSeg: true,
		log: opts.Log.With("component", "segmenter", "channel_arn", dst.Channel().ARN(), "rendition", dst.Name())}
	for _, t := range tracks {
		switch {
		case t.Kind == media.Video && s.video == nil && (t.Codec == media.H264 || t.Codec == media.H265 || t.Codec == media.AV1):
			s.video = &trackState{t: t, id: 1}
			s.byID[t.ID] = s.video
		case t.Kind == media.Audio && s.audio == nil && (t.Codec == media.AAC || t.Codec == media.Opus):
			s.audio = &trackState{t: t, id: 2}
			s.byID[t.ID] = s.audio
		}
	}
	s.lead = s.video
	if s.lead == nil {
		s.lead = s.audio
	}
	if s.lead == nil {
		return nil, ErrNoTracks
	}
	for _, ts := range s.byID {
		if ts.t.ClockRate <= 0 {
			return nil, fmt.Errorf("track %d: clock rate %d", ts.t.ID, ts.t.ClockRate)
		}
	}
	if s.audio != nil && s.audio.t.Codec == media.AAC && len(s.audio.t.AACConfig) == 0 {
		return nil, errors.New("aac track without AudioSpecificConfig")
	}
	switch dst.Channel().Container() {
	case segstore.TS:
		if s.audio != nil && s.audio.t.Codec != media.AAC || s.video != nil && s.video.t.Codec == media.AV1 {
			return nil, errors.New("mpeg-ts segments carry h264/h265 and aac only")
		}
		s.mux = newTSMuxer(s.video, s.audio)
	default:
		s.mux = &fmp4Muxer{video: s.video, audio: s.audio}
	}
	s.partTgt = media.Ticks(opts.PartTarget, s.lead.t.ClockRate)
	s.segTgt = media.Ticks(opts.SegmentTarget, s.lead.t.ClockRate)
	return s, nil
}

// InsertMetadata queues timed metadata for the next part. Safe for
// concurrent use. Payload limits are enforced upstream (PutMetadata);
// MaxMetadata is a backstop.
func (s *Segmenter) InsertMetadata(payload string) error {
	if len(payload) > MaxMetadata {
		return ErrMetadataTooLarge
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if len(s.meta) >= maxPendingMetadata {
		return errors.New("too much metadata pending")
	}
	s.meta = append(s.meta, ID3TXXX(payload))
	return nil
}

// Run segments until the reader's channel closes (returns nil after
// completing the last segment) or ctx ends (returns ctx.Err()).
func (s *Segmenter) Run(ctx context.Context) error {
	defer s.dst.EndSegment()
	s.log.Info("segmenter started", "container", containerName(s.dst.Channel().Container()),
		"part_target", s.opts.PartTarget, "segment_target", s.opts.SegmentTarget)
	defer func() {
		snap := s.dst.Snapshot()
		var last uint64
		if l := snap.Last(); l != nil {
			last = l.MSN
		}
		s.log.Info("segmenter stopped", "last_msn", last, "parts", s.parts, "discontinuities", s.discs)
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-s.r.C():
			if !ok {
				if s.started {
					if err := s.flush(); err != nil {
						return err
					}
				}
				return nil
			}
			if err := s.handle(u); err != nil {
				return fmt.Errorf("segment %s: %w", s.dst.Name(), err)
			}
		}
	}
}

func (s *Segmenter) handle(u *media.Unit) error {
	ts := s.byID[u.Track]
	if ts == nil {
		return nil
	}
	if s.started && !u.Discontinuity && ts == s.lead && ts.held != nil {
		// A source whose clock jumps (encoder restart without a
		// reconnect) is a discontinuity too: DTS never goes far backwards
		// nor leaps far ahead in a healthy stream. Small steps back
		// (rounding jitter) are squeezed below.
		d := media.Duration(u.DTS+ts.off-ts.held.dts, ts.t.ClockRate)
		if media.ClockJumped(d) {
			s.log.Warn("timestamp jump, starting a discontinuity", "jump_ms", d.Milliseconds())
			c := *u
			c.Discontinuity = true
			u = &c
		}
	}
	if s.started && u.Discontinuity {
		if err := s.flush(); err != nil {
			return err
		}
		s.dst.MarkDiscontinuity()
		s.discs++
		s.started = false
		s.newSeg = true
	}
	if !s.started {
		if ts != s.lead || !u.Key {
			return nil
		}
		if err := s.begin(u); err != nil {
			return err
		}
	}
	tl, pts := u.DTS+ts.off, u.PTS+ts.off
	if tl < 0 {
		return nil
	}
	if h := ts.held; h != nil && tl <= h.dts {
		// A small step back (larger ones started a discontinuity
		// above) is squeezed: the sample is placed one tick after the
		// held one, so decode times only grow and no part ends before
		// it starts. Later samples return to the source's timeline.
		shift := h.dts + 1 - tl
		tl, pts = tl+shift, pts+shift
	}
	if ts != s.lead {
		// Audio with a known frame duration goes straight into the part,
		// so it never waits for the next frame.
		if d := frameDuration(ts.t, u); d > 0 {
			if h := ts.held; h != nil {
				s.complete(ts, tl)
			}
			ts.lastDur = d
			ts.pending = append(ts.pending, sample{u: u, dts: tl, pts: pts, dur: d})
			return nil
		}
	}
	if ts.held != nil {
		s.complete(ts, tl)
	}
	if ts == s.lead && len(ts.pending) > 0 {
		since := tl - s.partStart
		switch {
		// Key frames are compared by presentation time: with B-frames
		// the DTS-to-PTS offset of the first frame may differ.
		case u.Key && pts-s.segStart >= s.segTgt:
			// The part completes its segment in the same snapshot: its
			// EXTINF is listed at once and the preload hint names the
			// next segment's first part.
			if err := s.emitPart(tl, true); err != nil {
				return err
			}
			s.newSeg = true
			s.segStart = pts
		case since+s.frameEst > s.partTgt || since >= s.partTgt:
			if err := s.emitPart(tl, false); err != nil {
				return err
			}
		}
	}
	ts.held = &sample{u: u, dts: tl, pts: pts}
	return nil
}

// complete gives the held sample of ts its duration (up to tl) and moves
// it into the part.
func (s *Segmenter) complete(ts *trackState, tl int64) {
	h := ts.held
	d := tl - h.dts // at least 1: handle squeezes steps back
	h.dur = d
	ts.lastDur = d
	ts.pending = append(ts.pending, *h)
	ts.held = nil
	if ts == s.lead {
		s.frameEst = d
	}
}

// frameDuration returns an audio frame's duration in its clock when the
// codec fixes it (AAC: 1024 or 960 samples; Opus: from the TOC byte), or
// 0 when it must be derived from the next frame.
func frameDuration(t media.Track, u *media.Unit) int64 {
	switch t.Codec {
	case media.AAC:
		if len(t.AACConfig) >= 2 && t.AACConfig[1]&0x04 != 0 && t.AACConfig[0]>>3 == 2 {
			return 960 // AAC-LC with frameLengthFlag
		}
		return 1024
	case media.Opus:
		return opusDuration(u.Payload, t.ClockRate)
	}
	return 0
}

// opusDuration reads an Opus packet's TOC (RFC 6716 3.1).
func opusDuration(p []byte, clock int) int64 {
	if len(p) == 0 || clock <= 0 {
		return 0
	}
	cfg := p[0] >> 3
	var us int64 // frame duration in microseconds
	switch {
	case cfg < 12:
		us = [4]int64{10000, 20000, 40000, 60000}[cfg%4]
	case cfg < 16:
		us = [2]int64{10000, 20000}[cfg%2]
	default:
		us = [4]int64{2500, 5000, 10000, 20000}[cfg%4]
	}
	frames := int64(1)
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int64(p[1] & 0x3f)
	}
	return us * frames * int64(clock) / 1_000_000
}

// begin starts (or restarts after a discontinuity) the timeline at key
// frame u of the lead track.
func (s *Segmenter) begin(u *media.Unit) error {
	if !s.inited {
		if err := s.learnParams(u); err != nil {
			return err
		}
		init, err := s.mux.init()
		if err != nil {
			return fmt.Errorf("init segment: %w", err)
		}
		if init != nil {
			s.dst.SetInit(init)
		}
		s.inited = true
	}
	offNs := s.endNs - media.Duration(u.DTS, s.lead.t.ClockRate)
	for _, ts := range s.byID {
		ts.off = media.Ticks(offNs, ts.t.ClockRate)
		ts.held, ts.pending = nil, ts.pending[:0]
	}
	s.partStart = u.DTS + s.lead.off
	s.segStart = u.PTS + s.lead.off
	wall := u.Arrival
	if wall.IsZero() {
		wall = time.Now()
	}
	// Program date times never go backwards across a discontinuity.
	if !s.wall.IsZero() {
		if prevEnd := s.wall.Add(s.endNs - s.tlAnchor); wall.Before(prevEnd) {
			wall = prevEnd
		}
	}
	s.wall = wall
	s.tlAnchor = s.endNs
	s.started = true
	s.newSeg = true
	return nil
}

func (s *Segmenter) pdt(tl int64) time.Time {
	return s.wall.Add(media.Duration(tl, s.lead.t.ClockRate) - s.tlAnchor)
}

// flush completes the held samples and emits the last part.
func (s *Segmenter) flush() error {
	var end int64
	for _, ts := range s.byID {
		if h := ts.held; h != nil {
			h.dur = ts.lastDur
			if h.dur <= 0 {
				h.dur = defaultDuration(ts.t)
			}
			ts.pending = append(ts.pending, *h)
			ts.held = nil
			if ts == s.lead {
				end = h.dts + h.dur
			}
		}
	}
	if len(s.lead.pending) == 0 {
		for _, ts := range s.byID {
			ts.pending = ts.pending[:0]
		}
		return nil
	}
	if end == 0 {
		l := s.lead.pending[len(s.lead.pending)-1]
		end = l.dts + l.dur
	}
	return s.emitPart(end, true)
}

func defaultDuration(t media.Track) int64 {
	switch t.Codec {
	case media.AAC:
		return 1024
	case media.Opus:
		return int64(t.ClockRate / 50)
	}
	return int64(t.ClockRate / 30)
}

// emitPart muxes the pending samples of every track as one part ending at
// end (lead clock) and publishes it; final completes the segment.
func (s *Segmenter) emitPart(end int64, final bool) error {
	lead := s.lead.pending
	if len(lead) == 0 {
		return nil
	}
	if s.newSeg {
		s.dst.StartSegment(s.pdt(s.partStart))
	}
	s.metaMu.Lock()
	meta := s.meta
	s.meta = nil
	s.metaMu.Unlock()
	var video, audio []sample
	if s.video != nil {
		video = s.video.pending
	}
	if s.audio != nil {
		audio = s.audio.pending
	}
	data, err := s.mux.part(video, audio, s.newSeg, meta, s.partStart)
	if err != nil {
		return fmt.Errorf("mux part: %w", err)
	}
	s.newSeg = false
	frames := 0
	if s.video != nil {
		frames = len(video)
	}
	s.parts++
	dur := media.Duration(end-s.partStart, s.lead.t.ClockRate)
	if final {
		s.dst.AddFinalPart(data, dur, lead[0].u.Key, frames)
		s.newSeg = true
	} else {
		s.dst.AddPart(data, dur, lead[0].u.Key, frames)
	}
	if s.opts.Latency != nil {
		now := time.Now()
		for _, ts := range s.byID {
			for _, p := range ts.pending {
				if !p.u.Arrival.IsZero() {
					s.opts.Latency(now.Sub(p.u.Arrival))
				}
			}
		}
	}
	for _, ts := range s.byID {
		clear(ts.pending)
		ts.pending = ts.pending[:0]
	}
	s.partStart = end
	s.endNs = media.Duration(end, s.lead.t.ClockRate)
	return nil
}

// learnParams fills missing H.264/H.265 parameter sets from the first key
// frame (some ingests only carry them in band).
func (s *Segmenter) learnParams(u *media.Unit) error {
	v := s.video
	if v == nil || len(v.t.SPS) > 0 {
		return nil
	}
	for _, n := range u.NALUs {
		if len(n) == 0 {
			continue
		}
		switch v.t.Codec {
		case media.H264:
			switch n[0] & 0x1f {
			case 7:
				v.t.SPS = n
			case 8:
				v.t.PPS = n
			}
		case media.H265:
			switch (n[0] >> 1) & 0x3f {
			case 32:
				v.t.VPS = n
			case 33:
				v.t.SPS = n
			case 34:
				v.t.PPS = n
			}
		}
	}
	if v.t.Codec != media.AV1 && len(v.t.SPS) == 0 {
		return errors.New("no video parameter sets in track or first key frame")
	}
	tracks := slices.Clone(s.dst.Info().Tracks)
	for i := range tracks {
		if tracks[i].ID == v.t.ID {
			tracks[i] = v.t
		}
	}
	s.dst.SetTracks(tracks)
	return nil
}

func containerName(c segstore.Container) string {
	if c == segstore.TS {
		return "ts"
	}
	return "fmp4"
}
