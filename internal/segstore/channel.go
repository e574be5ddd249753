package segstore

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/media"
)

// ErrExists is returned by AddRendition for a name already added.
var ErrExists = errors.New("rendition already exists")

// ErrClosed is returned when adding to a closed channel.
var ErrClosed = errors.New("channel closed")

// Channel is one live stream of a channel: its renditions and settings.
type Channel struct {
	store     *Store
	arn       string
	mode      LatencyMode
	container Container
	epoch     string
	started   time.Time

	renditions atomic.Pointer[renditionList]

	// wmu guards closed and serialises updates of renditions.
	wmu    sync.Mutex
	closed bool
}

type renditionList struct {
	list []*Rendition
}

// ARN returns the channel ARN.
func (c *Channel) ARN() string { return c.arn }

// LatencyMode returns the channel's latency mode.
func (c *Channel) LatencyMode() LatencyMode { return c.mode }

// Container returns the segment format.
func (c *Channel) Container() Container { return c.container }

// Epoch returns the stream's random token, part of every segment URI.
func (c *Channel) Epoch() string { return c.epoch }

// Started returns when the channel was opened.
func (c *Channel) Started() time.Time { return c.started }

// Options returns the store's options.
func (c *Channel) Options() Options { return c.store.opts }

// RenditionInfo describes a rendition for the multivariant playlist.
type RenditionInfo struct {
	// Tracks are the rendition's tracks (one video and optionally one
	// audio, or audio only), as hub.Tracks() returns them.
	Tracks []media.Track
	// Bandwidth is the peak bit rate in bits/s for BANDWIDTH; 0 means
	// measure it from the segments.
	Bandwidth int
	// FrameRate for FRAME-RATE; 0 means measure it.
	FrameRate float64
}

// AddRendition registers a rendition (name like "720p30" or "source")
// and returns it for its segmenter. The multivariant playlist lists
// renditions in the order they were added.
func (c *Channel) AddRendition(name string, info RenditionInfo) (*Rendition, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	old := c.renditions.Load()
	for _, r := range old.list {
		if r.name == name {
			return nil, ErrExists
		}
	}
	r := &Rendition{ch: c, name: name}
	r.info.Store(&info)
	r.snap.Store(&Snapshot{changed: make(chan struct{})})
	c.renditions.Store(&renditionList{list: append(slices.Clip(old.list), r)})
	return r, nil
}

// Renditions returns the renditions in the order they were added.
func (c *Channel) Renditions() []*Rendition { return c.renditions.Load().list }

// Rendition returns the named rendition, or nil.
func (c *Channel) Rendition(name string) *Rendition {
	for _, r := range c.renditions.Load().list {
		if r.name == name {
			return r
		}
	}
	return nil
}

// Close ends the stream: the channel leaves the store, waiting readers
// wake up and see the end. Idempotent.
func (c *Channel) Close() {
	c.store.remove(c)
	c.end()
}

func (c *Channel) end() {
	c.wmu.Lock()
	already := c.closed
	c.closed = true
	c.wmu.Unlock()
	if already {
		return
	}
	for _, r := range c.renditions.Load().list {
		r.end()
	}
	c.store.log.Info("channel closed", "channel_arn", c.arn, "epoch", c.epoch)
}

// ParseLatencyMode maps an IVS latencyMode ("LOW", "NORMAL") to a
// LatencyMode; anything else is LOW, IVS's default.
func ParseLatencyMode(s string) LatencyMode {
	if s == "NORMAL" {
		return Normal
	}
	return Low
}

// ParseContainer maps an IVS containerFormat ("TS", "FRAGMENTED_MP4") to
// a Container; anything else is fragmented MP4.
func ParseContainer(s string) Container {
	if s == "TS" {
		return TS
	}
	return FMP4
}
