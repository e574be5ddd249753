package stream

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/media"
)

// DefaultQueue is a reader's queue length when none is given: about four
// seconds of 30 fps video with its audio, enough to ride out a GC pause or
// a slow disk without letting a stuck reader hold much memory.
const DefaultQueue = 512

// dropWarnEvery is how often a reader that keeps dropping is logged.
const dropWarnEvery = 5 * time.Second

// Hub fans one publisher's units out to readers.
type Hub struct {
	tracks []media.Track
	log    *slog.Logger

	written atomic.Uint64

	// wmu serialises writers (one publisher, but a reconnecting publisher
	// may overlap its predecessor for a moment).
	wmu sync.Mutex

	// mu guards readers and closed; Write holds it shared while offering.
	mu      sync.RWMutex
	readers map[*Reader]struct{}
	closed  bool
}

// NewHub returns a hub for a stream of the given tracks.
func NewHub(tracks []media.Track, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{tracks: tracks, log: log, readers: map[*Reader]struct{}{}}
}

// Tracks returns the stream's tracks; callers must not modify them.
func (h *Hub) Tracks() []media.Track { return h.tracks }

// Written returns how many units the publisher has written.
func (h *Hub) Written() uint64 { return h.written.Load() }

// Write offers u to every reader without blocking. u must not be modified
// afterwards.
func (h *Hub) Write(u *media.Unit) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.written.Add(1)
	video := u.Track >= 0 && u.Track < len(h.tracks) && h.tracks[u.Track].Kind == media.Video
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return
	}
	for r := range h.readers {
		r.offer(u, video)
	}
}

// NewReader attaches a reader with a queue of n units (DefaultQueue when n
// <= 0). The reader starts at the next video key frame.
func (h *Hub) NewReader(name string, n int) *Reader {
	if n <= 0 {
		n = DefaultQueue
	}
	r := &Reader{name: name, hub: h, ch: make(chan *media.Unit, n), waitKey: h.hasVideo()}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(r.ch)
		r.detached = true
		return r
	}
	h.readers[r] = struct{}{}
	return r
}

// Readers returns how many readers are attached.
func (h *Hub) Readers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.readers)
}

// Close ends the stream: every reader's channel is closed after the units
// already queued. Close is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for r := range h.readers {
		r.detached = true
		close(r.ch)
	}
	clear(h.readers)
}

func (h *Hub) hasVideo() bool {
	for _, t := range h.tracks {
		if t.Kind == media.Video {
			return true
		}
	}
	return false
}

// Reader receives a hub's units through a bounded queue.
type Reader struct {
	name string
	hub  *Hub
	ch   chan *media.Unit

	dropped   atomic.Uint64
	delivered atomic.Uint64

	// Owned by the writer (under Hub.wmu).
	waitKey      bool
	gap          bool
	lastWarn     time.Time
	droppedAtLog uint64

	// detached is guarded by Hub.mu.
	detached bool
}

// C returns the queue; it is closed when the hub closes or the reader is
// closed.
func (r *Reader) C() <-chan *media.Unit { return r.ch }

// Tracks returns the tracks of the hub the reader reads.
func (r *Reader) Tracks() []media.Track { return r.hub.tracks }

// Dropped returns how many units this reader lost to a full queue or to
// waiting for a key frame after a loss.
func (r *Reader) Dropped() uint64 { return r.dropped.Load() }

// Delivered returns how many units were queued for this reader.
func (r *Reader) Delivered() uint64 { return r.delivered.Load() }

// Close detaches the reader; its channel is closed. Idempotent.
func (r *Reader) Close() {
	h := r.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.detached {
		return
	}
	r.detached = true
	delete(h.readers, r)
	close(r.ch)
}

// offer runs under Hub.wmu and Hub.mu (shared).
func (r *Reader) offer(u *media.Unit, video bool) {
	if video && r.waitKey {
		if !u.Key {
			r.dropped.Add(1)
			return
		}
		r.waitKey = false
	}
	if r.gap {
		c := *u
		c.Discontinuity = true
		u = &c
	}
	select {
	case r.ch <- u:
		r.gap = false
		r.delivered.Add(1)
	default:
		r.dropped.Add(1)
		r.gap = true
		r.waitKey = r.hub.hasVideo()
		r.warn()
	}
}

func (r *Reader) warn() {
	now := time.Now()
	if now.Sub(r.lastWarn) < dropWarnEvery {
		return
	}
	d := r.dropped.Load()
	r.hub.log.Warn("reader is too slow, dropping units", "reader", r.name,
		"dropped_since_last_warning", d-r.droppedAtLog, "dropped_total", d)
	r.lastWarn, r.droppedAtLog = now, d
}
