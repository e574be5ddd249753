package channels

import (
	"sync"
	"time"
)

// maxBuckets bounds the per-channel buckets kept in memory; beyond it, full
// (idle) buckets are dropped, which loses nothing since a new bucket starts
// full.
const maxBuckets = 10000

// bucket is a token bucket holding up to its rate in tokens (one second of
// burst), refilled continuously at rate tokens per second.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time, rate float64) {
	if b.last.IsZero() {
		b.tokens, b.last = rate, now
		return
	}
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(rate, b.tokens+d*rate)
		b.last = now
	}
}

// rateLimiter enforces a per-key rate and an overall rate (PutMetadata's
// per-channel and per-account TPS limits).
type rateLimiter struct {
	perKey, overall float64

	mu      sync.Mutex
	total   bucket
	buckets map[string]*bucket
}

func newRateLimiter(perKey, overall int) *rateLimiter {
	return &rateLimiter{perKey: float64(perKey), overall: float64(overall), buckets: make(map[string]*bucket)}
}

// allow takes a token from key's bucket and from the overall bucket, or
// reports false (and takes nothing) when either is empty.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{}
		l.buckets[key] = b
	}
	b.refill(now, l.perKey)
	l.total.refill(now, l.overall)
	if b.tokens < 1 || l.total.tokens < 1 {
		return false
	}
	b.tokens--
	l.total.tokens--
	return true
}

// prune drops the buckets that have refilled completely.
func (l *rateLimiter) prune(now time.Time) {
	for k, b := range l.buckets {
		b.refill(now, l.perKey)
		if b.tokens >= l.perKey {
			delete(l.buckets, k)
		}
	}
}
