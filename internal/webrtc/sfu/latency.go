package sfu

import (
	"sync/atomic"
	"time"
)

// Latency histogram: 10 µs buckets up to 20 ms, then one overflow bucket.
const (
	latBucket  = 10 * time.Microsecond
	latBuckets = 2000
)

// latencyHist counts packets by in-server latency: from the publisher
// read loop having the packet (after SRTP decrypt) to the subscriber's
// WriteRTP having sent it (after SRTP encrypt and the UDP send).
type latencyHist struct {
	b [latBuckets + 1]atomic.Uint64
}

func (h *latencyHist) add(d time.Duration) {
	i := int(d / latBucket)
	if i < 0 {
		i = 0
	}
	if i > latBuckets {
		i = latBuckets
	}
	h.b[i].Add(1)
}

// Latency summarises in-server forwarding latency.
type Latency struct {
	Count    uint64
	P50, P99 time.Duration
	Max      time.Duration // upper bound of the highest non-empty bucket
}

func (h *latencyHist) summary() Latency {
	var counts [latBuckets + 1]uint64
	var n uint64
	for i := range counts {
		counts[i] = h.b[i].Load()
		n += counts[i]
	}
	out := Latency{Count: n}
	if n == 0 {
		return out
	}
	q := func(p float64) time.Duration {
		want := uint64(p * float64(n))
		var acc uint64
		for i, c := range counts {
			acc += c
			if acc > want {
				return time.Duration(i+1) * latBucket
			}
		}
		return latBuckets * latBucket
	}
	out.P50, out.P99 = q(0.50), q(0.99)
	for i := latBuckets; i >= 0; i-- {
		if counts[i] > 0 {
			out.Max = time.Duration(i+1) * latBucket
			break
		}
	}
	return out
}

func (h *latencyHist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

// ForwardLatency returns the in-server latency histogram summary since
// the last ResetForwardLatency.
func (s *Server) ForwardLatency() Latency { return s.lat.summary() }

// ResetForwardLatency clears the latency histogram (benchmarks call it
// after warm-up).
func (s *Server) ResetForwardLatency() { s.lat.reset() }
