package origin

import (
	"hash/maphash"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxViewersPerChannel bounds the memory of one channel's viewer set; a
// flood of distinct fake clients saturates the count instead of memory.
const maxViewersPerChannel = 1 << 20

// viewerCounter counts distinct viewers per channel over a window.
type viewerCounter struct {
	window time.Duration
	seed   maphash.Seed
	once   sync.Once
	sets   sync.Map // channel ARN -> *viewerSet
}

type viewerSet struct {
	// mu guards seen and pruned.
	mu     sync.Mutex
	seen   map[uint64]int64 // viewer key -> last seen (unix ns)
	pruned int64
}

func (c *viewerCounter) set(arn string) *viewerSet {
	if v, ok := c.sets.Load(arn); ok {
		return v.(*viewerSet)
	}
	v, _ := c.sets.LoadOrStore(arn, &viewerSet{seen: map[uint64]int64{}})
	return v.(*viewerSet)
}

// seen records a playlist request. The key is the playback token when
// there is one, else the client IP and User-Agent.
func (c *viewerCounter) seen(arn string, r *http.Request, token string) {
	c.once.Do(func() { c.seed = maphash.MakeSeed() })
	var h maphash.Hash
	h.SetSeed(c.seed)
	if token != "" {
		_, _ = h.WriteString(token)
	} else {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		_, _ = h.WriteString(host)
		_ = h.WriteByte(0)
		_, _ = h.WriteString(r.Header.Get("User-Agent"))
	}
	key := h.Sum64()
	now := time.Now().UnixNano()
	s := c.set(arn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[key]; ok || len(s.seen) < maxViewersPerChannel {
		s.seen[key] = now
	}
	if now-s.pruned > int64(c.window) {
		s.prune(now, c.window)
	}
}

func (s *viewerSet) prune(now int64, window time.Duration) {
	for k, t := range s.seen {
		if now-t > int64(window) {
			delete(s.seen, k)
		}
	}
	s.pruned = now
}

func (c *viewerCounter) count(arn string) int {
	v, ok := c.sets.Load(arn)
	if !ok {
		return 0
	}
	s := v.(*viewerSet)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(time.Now().UnixNano(), c.window)
	return len(s.seen)
}
