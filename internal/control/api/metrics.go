package api

import (
	"slices"
	"strings"
	"sync"
)

// RequestCount is how many requests of one operation ended with one HTTP
// status. Operation is empty for requests that matched no operation.
type RequestCount struct {
	Operation string
	Status    int
	Count     uint64
}

// requestCounts counts answered requests by operation and status; the key
// space is bounded by the models' operations times the statuses the
// handler answers.
type requestCounts struct {
	mu sync.Mutex
	n  map[requestKey]uint64
}

type requestKey struct {
	op     string
	status int
}

func (c *requestCounts) add(op string, status int) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[requestKey]uint64{}
	}
	c.n[requestKey{op, status}]++
	c.mu.Unlock()
}

// Requests returns the request counts so far, by operation then status.
func (h *Handler) Requests() []RequestCount {
	h.counts.mu.Lock()
	out := make([]RequestCount, 0, len(h.counts.n))
	for k, n := range h.counts.n {
		out = append(out, RequestCount{Operation: k.op, Status: k.status, Count: n})
	}
	h.counts.mu.Unlock()
	slices.SortFunc(out, func(a, b RequestCount) int {
		if c := strings.Compare(a.Operation, b.Operation); c != 0 {
			return c
		}
		return a.Status - b.Status
	})
	return out
}
