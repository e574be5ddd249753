package segstore

import (
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LatencyMode is the channel's latencyMode: LOW serves LL-HLS (parts,
// blocking reloads), NORMAL plain HLS.
type LatencyMode int

// Latency modes.
const (
	Low LatencyMode = iota
	Normal
)

// Container is the segment format: CMAF fragmented MP4 or MPEG-TS.
type Container int

// Containers.
const (
	FMP4 Container = iota
	TS
)

// Options configure a Store.
type Options struct {
	// PartTarget and SegmentTarget are the packaging targets
	// (config.Playback); playlists advertise them.
	PartTarget    time.Duration
	SegmentTarget time.Duration
	// WindowSegments is how many complete segments a rendition keeps.
	WindowSegments int
	// OnSegment, when set, is called on the writer's goroutine after a
	// segment completes. It must not block for long.
	OnSegment func(SegmentEvent)
	Log       *slog.Logger
}

// SegmentEvent describes a completed segment for Options.OnSegment.
type SegmentEvent struct {
	ChannelARN string
	Rendition  string
	Container  Container
	Init       []byte // the init segment the segment needs (nil for TS)
	Segment    *Segment
}

// Store holds the live channels.
type Store struct {
	opts Options
	log  *slog.Logger

	// mu guards channels.
	mu       sync.RWMutex
	channels map[string]*Channel
}

// New returns an empty store. Zero option fields get defaults (300 ms
// parts, 2 s segments, 7-segment window).
func New(opts Options) *Store {
	if opts.PartTarget <= 0 {
		opts.PartTarget = 300 * time.Millisecond
	}
	if opts.SegmentTarget <= 0 {
		opts.SegmentTarget = 2 * time.Second
	}
	if opts.WindowSegments <= 0 {
		opts.WindowSegments = 7
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Store{opts: opts, log: opts.Log.With("component", "segstore"), channels: map[string]*Channel{}}
}

// Options returns the store's options (with defaults applied).
func (s *Store) Options() Options { return s.opts }

// Open registers a live stream of channelARN and returns it. A channel
// already open is replaced (its readers see it end). The caller must Close
// the returned channel when the stream ends.
func (s *Store) Open(channelARN string, mode LatencyMode, container Container) *Channel {
	c := &Channel{
		store: s, arn: channelARN, mode: mode, container: container,
		epoch: newEpoch(), started: time.Now(),
	}
	c.renditions.Store(&renditionList{})
	s.mu.Lock()
	old := s.channels[channelARN]
	s.channels[channelARN] = c
	s.mu.Unlock()
	if old != nil {
		old.end()
	}
	s.log.Info("channel open", "channel_arn", channelARN, "epoch", c.epoch)
	return c
}

// Channel returns the open channel, or nil.
func (s *Store) Channel(channelARN string) *Channel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.channels[channelARN]
}

// Channels returns the ARNs of open channels.
func (s *Store) Channels() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.channels))
	for k := range s.channels {
		out = append(out, k)
	}
	return out
}

func (s *Store) remove(c *Channel) {
	s.mu.Lock()
	if s.channels[c.arn] == c {
		delete(s.channels, c.arn)
	}
	s.mu.Unlock()
}

// newEpoch returns a short random token that makes a stream's segment
// URIs unique, so immutable caching stays correct across streams.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
