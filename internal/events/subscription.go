package events

import (
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/events/pattern"
)

// Subscription receives every event in publication order through a
// bounded queue. When the queue is full the event is dropped for this
// subscriber only and counted; a warning is logged at most every 10 s.
type Subscription struct {
	name     string
	pat      *pattern.Pattern // nil = every event
	c        chan Event
	bus      *Bus
	dropped  atomic.Uint64
	reported uint64    // dropped count at the last warning; bus goroutine only
	lastWarn time.Time // bus goroutine only
}

// Subscribe registers an in-process subscriber with a queue of n events
// (n <= 0: DefaultSubscriberQueue). name identifies it in logs. The channel
// is closed by Close or when the bus stops.
func (b *Bus) Subscribe(name string, n int) *Subscription {
	return b.SubscribeMatching(name, n, nil)
}

// SubscribeMatching is Subscribe for the events p matches (nil: all).
func (b *Bus) SubscribeMatching(name string, n int, p *pattern.Pattern) *Subscription {
	if n <= 0 {
		n = DefaultSubscriberQueue
	}
	s := &Subscription{name: name, pat: p, c: make(chan Event, n), bus: b}
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	if b.closed {
		close(s.c)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// C is the subscriber's queue.
func (s *Subscription) C() <-chan Event { return s.c }

// Dropped is how many events this subscriber missed.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	b := s.bus
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// fanout offers e to every subscriber without blocking. The read lock is
// held across the non-blocking sends so that Close cannot close a channel
// mid-send.
func (b *Bus) fanout(e *Event, doc any) {
	b.subsMu.RLock()
	defer b.subsMu.RUnlock()
	for s := range b.subs {
		if s.pat != nil && !s.pat.Match(doc) {
			continue
		}
		select {
		case s.c <- *e:
			continue
		default:
		}
		n := s.dropped.Add(1)
		if now := time.Now(); now.Sub(s.lastWarn) >= dropLogInterval {
			b.log.Warn("event subscriber too slow: events dropped", "subscriber", s.name,
				"dropped", n-s.reported, "dropped_total", n)
			s.lastWarn, s.reported = now, n
		}
	}
}

func (b *Bus) closeSubscriptions() {
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.c)
	}
}
