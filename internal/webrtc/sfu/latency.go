package sfu

import (
	"sync"
	"sync/atomic"
	"time"
)

// Latency histogram: 10 µs buckets up to 20 ms, then coarse buckets for
// an overloaded server (up to latCoarse's bounds), then one overflow
// bucket.
const (
	latBucket  = 10 * time.Microsecond
	latFine    = 2000
	latBuckets = latFine + len(latCoarseBounds) // the overflow bucket's index
)

// latCoarseBounds are the upper bounds of the buckets after the fine ones.
var latCoarseBounds = [...]time.Duration{
	30 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond,
}

// latUpper is bucket i's upper bound (the overflow bucket: one hour).
func latUpper(i int) time.Duration {
	switch {
	case i < latFine:
		return time.Duration(i+1) * latBucket
	case i < latBuckets:
		return latCoarseBounds[i-latFine]
	}
	return time.Hour
}

// latencyHist counts packets by in-server latency: from the publisher
// read loop having the packet (after SRTP decrypt) to the subscriber's
// WriteRTP having sent it (after SRTP encrypt and the UDP send).
//
// The counts only grow (they are exported as a Prometheus histogram);
// reset moves a baseline that summary subtracts.
type latencyHist struct {
	b   [latBuckets + 1]atomic.Uint64
	sum atomic.Uint64 // nanoseconds, over every packet ever added

	mu   sync.Mutex // guards base
	base [latBuckets + 1]uint64
}

func (h *latencyHist) add(d time.Duration) {
	i := int(max(d, 0) / latBucket)
	if i >= latFine {
		i = latFine
		for i < latBuckets && d >= latCoarseBounds[i-latFine] {
			i++
		}
	}
	h.b[i].Add(1)
	h.sum.Add(uint64(max(d, 0)))
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
	h.mu.Lock()
	for i := range counts {
		counts[i] = h.b[i].Load() - h.base[i]
		n += counts[i]
	}
	h.mu.Unlock()
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
				return latUpper(i)
			}
		}
		return latUpper(latBuckets)
	}
	out.P50, out.P99 = q(0.50), q(0.99)
	for i := latBuckets; i >= 0; i-- {
		if counts[i] > 0 {
			out.Max = latUpper(i)
			break
		}
	}
	return out
}

func (h *latencyHist) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.b {
		h.base[i] = h.b[i].Load()
	}
}

// ForwardLatency returns the in-server latency histogram summary since
// the last ResetForwardLatency.
func (s *Server) ForwardLatency() Latency { return s.lat.summary() }

// ResetForwardLatency clears the latency histogram (benchmarks call it
// after warm-up).
func (s *Server) ResetForwardLatency() { s.lat.reset() }

// LatencyBounds are the upper bounds of the forwarding latency histogram
// ForwardLatencyHistogram exports (the last bucket, +Inf, is implied).
var LatencyBounds = []time.Duration{
	100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond, 400 * time.Microsecond,
	500 * time.Microsecond, 600 * time.Microsecond, 800 * time.Microsecond, time.Millisecond,
	1250 * time.Microsecond, 1500 * time.Microsecond, 1750 * time.Microsecond, 2 * time.Millisecond,
	2500 * time.Microsecond, 3 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond,
	7500 * time.Microsecond, 10 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond,
	30 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond,
}

// ForwardLatencyHistogram returns cumulative packet counts of in-server
// forwarding latency at LatencyBounds, then the total (+Inf), since the
// server started (ResetForwardLatency does not touch them): the shape of
// a Prometheus histogram, with the sum of all latencies. A scraper takes
// differences between two reads.
func (s *Server) ForwardLatencyHistogram() (buckets []uint64, sum time.Duration) {
	out := make([]uint64, len(LatencyBounds)+1)
	var acc uint64
	bound := 0
	for i := range s.lat.b {
		// Bucket i falls under the first bound at or above its upper
		// edge (every bound is a fine or coarse bucket edge).
		upper := latUpper(i)
		for bound < len(LatencyBounds) && upper > LatencyBounds[bound] {
			out[bound] = acc
			bound++
		}
		acc += s.lat.b[i].Load()
	}
	for ; bound <= len(LatencyBounds); bound++ {
		out[bound] = acc
	}
	return out, time.Duration(s.lat.sum.Load())
}
