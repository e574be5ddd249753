package segstore

import (
	"slices"

	"github.com/stagecast/stagecast/internal/media"
	"sync"
	"sync/atomic"
	"time"
)

// Rendition is one quality level of a channel: init segments and a
// sliding window of segments. One writer (the segmenter); any number of
// readers through Snapshot and Wait.
type Rendition struct {
	ch   *Channel
	name string
	info atomic.Pointer[RenditionInfo]

	snap atomic.Pointer[Snapshot]

	// wmu serialises writers (the segmenter, and Channel.Close ending the
	// rendition) and guards the fields below.
	wmu     sync.Mutex
	ended   bool
	nextMSN uint64
	discSeq uint64
	// pendingDisc marks the next segment as a discontinuity.
	pendingDisc bool
}

// Name returns the rendition name.
func (r *Rendition) Name() string { return r.name }

// Info returns what AddRendition was given (tracks possibly completed
// by SetTracks).
func (r *Rendition) Info() RenditionInfo { return *r.info.Load() }

// SetTracks replaces the rendition's track descriptions, e.g. once the
// segmenter learned parameter sets carried in band (for CODECS and
// RESOLUTION in the multivariant playlist).
func (r *Rendition) SetTracks(tracks []media.Track) {
	info := *r.info.Load()
	info.Tracks = tracks
	r.info.Store(&info)
}

// Channel returns the rendition's channel.
func (r *Rendition) Channel() *Channel { return r.ch }

// Snapshot returns the current immutable state.
func (r *Rendition) Snapshot() *Snapshot { return r.snap.Load() }

// Init is one version of a rendition's initialization segment.
type Init struct {
	Gen  int
	Data []byte
}

// Segment is a media segment: a sequence of parts. Segments in a
// snapshot are immutable; the open (last) one is replaced, not modified,
// when a part is added.
type Segment struct {
	MSN uint64
	// Init is the generation of the init segment it needs (fMP4).
	Init int
	// Discontinuity: the segment follows a gap (publisher reconnect).
	Discontinuity bool
	// ProgramDateTime is the wall-clock time of its first sample.
	ProgramDateTime time.Time
	Parts           []*Part
	// Duration is the sum of the part durations.
	Duration time.Duration
	// Size is the sum of the part sizes in bytes.
	Size int
	// Frames counts video samples (for FRAME-RATE).
	Frames   int
	Complete bool
}

// Part is a partial segment (a CMAF fragment or an MPEG-TS chunk).
type Part struct {
	Index       int
	Duration    time.Duration
	Independent bool
	Data        []byte
	// Published is when the part became visible.
	Published time.Time
}

// Snapshot is an immutable view of a rendition.
type Snapshot struct {
	// Segments, oldest first; the last one may be incomplete (open).
	Segments []*Segment
	// Inits holds the init generations the segments refer to, oldest first.
	Inits []Init
	// DiscontinuitySeq counts discontinuities that left the window
	// (EXT-X-DISCONTINUITY-SEQUENCE).
	DiscontinuitySeq uint64
	// MaxSegment is the longest segment duration of the stream so far.
	MaxSegment time.Duration
	// Ended is set when the stream ended; no more parts will come.
	Ended bool

	changed chan struct{}
	cache   [cacheSlots]atomic.Pointer[[]byte]
}

// cacheSlots is how many rendered variants a snapshot caches.
const cacheSlots = 4

// Changed returns a channel closed when a newer snapshot exists.
func (s *Snapshot) Changed() <-chan struct{} { return s.changed }

// Cached returns the bytes cached in slot (0..3) for this snapshot,
// rendering them with render on first use.
func (s *Snapshot) Cached(slot int, render func() []byte) []byte {
	if p := s.cache[slot].Load(); p != nil {
		return *p
	}
	b := render()
	if s.cache[slot].CompareAndSwap(nil, &b) {
		return b
	}
	return *s.cache[slot].Load()
}

// Last returns the newest segment, or nil.
func (s *Snapshot) Last() *Segment {
	if len(s.Segments) == 0 {
		return nil
	}
	return s.Segments[len(s.Segments)-1]
}

// Segment returns segment msn if it is in the window.
func (s *Snapshot) Segment(msn uint64) *Segment {
	if len(s.Segments) == 0 || msn < s.Segments[0].MSN {
		return nil
	}
	i := msn - s.Segments[0].MSN
	if i >= uint64(len(s.Segments)) {
		return nil
	}
	return s.Segments[i]
}

// Part returns part idx of segment msn if it is in the window.
func (s *Snapshot) Part(msn uint64, idx int) *Part {
	seg := s.Segment(msn)
	if seg == nil || idx < 0 || idx >= len(seg.Parts) {
		return nil
	}
	return seg.Parts[idx]
}

// InitData returns init generation gen, or nil.
func (s *Snapshot) InitData(gen int) []byte {
	for _, in := range s.Inits {
		if in.Gen == gen {
			return in.Data
		}
	}
	return nil
}

// Has reports whether the snapshot contains part idx of segment msn or
// anything later; idx < 0 asks for segment msn complete (or later).
// This is the LL-HLS blocking-reload condition.
func (s *Snapshot) Has(msn uint64, idx int) bool {
	last := s.Last()
	if last == nil {
		return false
	}
	switch {
	case last.MSN > msn:
		if idx >= 0 {
			return true
		}
		// Segment msn is complete once a later one exists.
		return true
	case last.MSN < msn:
		return false
	}
	if idx < 0 {
		return last.Complete
	}
	return idx < len(last.Parts)
}

// SetInit publishes a new init segment; the following segments use it
// (a new EXT-X-MAP). The writer calls it before the first part.
func (r *Rendition) SetInit(data []byte) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.ended {
		return
	}
	old := r.snap.Load()
	gen := 0
	if n := len(old.Inits); n > 0 {
		gen = old.Inits[n-1].Gen + 1
	}
	next := r.clone(old)
	next.Inits = append(slices.Clip(old.Inits), Init{Gen: gen, Data: data})
	r.publish(old, next)
}

// MarkDiscontinuity makes the next segment start with
// EXT-X-DISCONTINUITY (timestamps or encoder changed).
func (r *Rendition) MarkDiscontinuity() {
	r.wmu.Lock()
	r.pendingDisc = true
	r.wmu.Unlock()
}

// StartSegment closes the open segment (if any) and opens a new one whose
// first sample is at wall-clock time pdt. Parts added next go into it.
func (r *Rendition) StartSegment(pdt time.Time) {
	var done *Segment
	r.wmu.Lock()
	if r.ended {
		r.wmu.Unlock()
		return
	}
	old := r.snap.Load()
	next := r.clone(old)
	segs := slices.Clone(old.Segments)
	if last := old.Last(); last != nil && !last.Complete {
		c := *last
		c.Complete = true
		segs[len(segs)-1] = &c
		done = &c
		if c.Duration > next.MaxSegment {
			next.MaxSegment = c.Duration
		}
	}
	init := 0
	if n := len(old.Inits); n > 0 {
		init = old.Inits[n-1].Gen
	}
	segs = append(segs, &Segment{MSN: r.nextMSN, Init: init, Discontinuity: r.pendingDisc && r.nextMSN > 0, ProgramDateTime: pdt})
	r.nextMSN++
	r.pendingDisc = false
	segs, next.DiscontinuitySeq = r.trim(segs, next.DiscontinuitySeq)
	next.Segments = segs
	next.Inits = trimInits(old.Inits, segs)
	r.publish(old, next)
	r.wmu.Unlock()
	r.segmentDone(done, old)
}

// EndSegment completes the open segment without opening another (stream
// end).
func (r *Rendition) EndSegment() {
	var done *Segment
	r.wmu.Lock()
	old := r.snap.Load()
	if last := old.Last(); !r.ended && last != nil && !last.Complete {
		next := r.clone(old)
		next.Segments = slices.Clone(old.Segments)
		c := *last
		c.Complete = true
		next.Segments[len(next.Segments)-1] = &c
		if c.Duration > next.MaxSegment {
			next.MaxSegment = c.Duration
		}
		done = &c
		r.publish(old, next)
	}
	r.wmu.Unlock()
	r.segmentDone(done, old)
}

// AddPart appends a part to the open segment (StartSegment must have been
// called). frames counts the video samples in it.
func (r *Rendition) AddPart(data []byte, dur time.Duration, independent bool, frames int) {
	r.addPart(data, dur, independent, frames, false)
}

// AddFinalPart appends the last part of the open segment and completes
// the segment in the same snapshot, so no reader ever sees the segment
// waiting for a part that will not come.
func (r *Rendition) AddFinalPart(data []byte, dur time.Duration, independent bool, frames int) {
	r.addPart(data, dur, independent, frames, true)
}

func (r *Rendition) addPart(data []byte, dur time.Duration, independent bool, frames int, final bool) {
	r.wmu.Lock()
	old := r.snap.Load()
	last := old.Last()
	if r.ended || last == nil || last.Complete {
		r.wmu.Unlock()
		return
	}
	c := *last
	// Appending past len never touches elements older snapshots can see.
	c.Parts = append(c.Parts, &Part{Index: len(last.Parts), Duration: dur, Independent: independent, Data: data, Published: time.Now()})
	c.Duration += dur
	c.Size += len(data)
	c.Frames += frames
	c.Complete = final
	next := r.clone(old)
	next.Segments = slices.Clone(old.Segments)
	next.Segments[len(next.Segments)-1] = &c
	if final && c.Duration > next.MaxSegment {
		next.MaxSegment = c.Duration
	}
	r.publish(old, next)
	r.wmu.Unlock()
	if final {
		r.segmentDone(&c, old)
	}
}

func (r *Rendition) end() {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.ended {
		return
	}
	r.ended = true
	old := r.snap.Load()
	next := r.clone(old)
	next.Ended = true
	r.publish(old, next)
}

func (r *Rendition) segmentDone(seg *Segment, old *Snapshot) {
	hook := r.ch.store.opts.OnSegment
	if seg == nil || hook == nil {
		return
	}
	ev := SegmentEvent{ChannelARN: r.ch.arn, Rendition: r.name, Container: r.ch.container, Segment: seg}
	if r.ch.container == FMP4 {
		ev.Init = old.InitData(seg.Init)
	}
	hook(ev)
}

// clone copies the header fields of a snapshot (slices are shared).
func (r *Rendition) clone(old *Snapshot) *Snapshot {
	return &Snapshot{
		Segments: old.Segments, Inits: old.Inits, DiscontinuitySeq: old.DiscontinuitySeq,
		MaxSegment: old.MaxSegment, Ended: old.Ended, changed: make(chan struct{}),
	}
}

// publish runs under wmu.
func (r *Rendition) publish(old, next *Snapshot) {
	r.snap.Store(next)
	close(old.changed)
}

// trim drops the oldest complete segments beyond the window.
func (r *Rendition) trim(segs []*Segment, discSeq uint64) ([]*Segment, uint64) {
	keep := r.ch.store.opts.WindowSegments + 1 // + the open one
	for len(segs) > keep {
		if segs[0].Discontinuity {
			discSeq++
		}
		segs = segs[1:]
	}
	return segs, discSeq
}

// trimInits keeps the init generations the window still refers to.
func trimInits(inits []Init, segs []*Segment) []Init {
	if len(segs) == 0 || len(inits) <= 1 {
		return inits
	}
	first := segs[0].Init
	i := 0
	for i < len(inits)-1 && inits[i].Gen < first {
		i++
	}
	return inits[i:]
}
