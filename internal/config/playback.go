package config

import (
	"errors"
	"fmt"
	"time"
)

// Playback configures LL-HLS/HLS packaging and the origin: part and
// segment targets, blocking-reload timeout, window.
type Playback struct {
	// PartTarget is the LL-HLS partial segment target (EXT-X-PART-INF
	// PART-TARGET). The server adds at most about one part of latency.
	PartTarget time.Duration `yaml:"part_target"`
	// SegmentTarget is the shortest segment: a segment ends at the first
	// video key frame at or after it. IVS low-latency channels use ~2 s.
	SegmentTarget time.Duration `yaml:"segment_target"`
	// WindowSegments is how many complete segments each rendition playlist
	// keeps (the sliding window).
	WindowSegments int `yaml:"window_segments"`
	// BlockTimeout bounds how long a blocking playlist reload
	// (_HLS_msn/_HLS_part) or a preload-hinted part request waits before
	// answering 503; the LL-HLS spec says three target durations.
	BlockTimeout time.Duration `yaml:"block_timeout"`
	// ViewerWindow is how long a viewer counts as watching after its last
	// playlist request.
	ViewerWindow time.Duration `yaml:"viewer_window"`
}

// Playback limits and their reasons.
const (
	// minPartTarget: below ~100 ms the request rate per viewer explodes and
	// parts hold only two or three frames.
	minPartTarget = 100 * time.Millisecond
	// maxSegmentTarget: longer segments make the window and the memory
	// per rendition large for no latency benefit.
	maxSegmentTarget = 30 * time.Second
	// maxWindowSegments bounds memory per rendition.
	maxWindowSegments = 60
)

func defaultPlayback() Playback {
	return Playback{
		PartTarget:     300 * time.Millisecond,
		SegmentTarget:  2 * time.Second,
		WindowSegments: 7,
		BlockTimeout:   6 * time.Second,
		ViewerWindow:   15 * time.Second,
	}
}

// validate reports invalid playback settings (nil when valid).
func (c Playback) validate() error {
	var errs []error
	if c.PartTarget < minPartTarget {
		errs = append(errs, fmt.Errorf("playback.part_target: %s is below %s", c.PartTarget, minPartTarget))
	}
	if c.SegmentTarget < c.PartTarget || c.SegmentTarget > maxSegmentTarget {
		errs = append(errs, fmt.Errorf("playback.segment_target: %s must be between part_target (%s) and %s", c.SegmentTarget, c.PartTarget, maxSegmentTarget))
	}
	if c.WindowSegments < 3 || c.WindowSegments > maxWindowSegments {
		errs = append(errs, fmt.Errorf("playback.window_segments: %d must be 3-%d", c.WindowSegments, maxWindowSegments))
	}
	if c.BlockTimeout < c.PartTarget || c.BlockTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("playback.block_timeout: %s must be between part_target and 1m", c.BlockTimeout))
	}
	if c.ViewerWindow < time.Second || c.ViewerWindow > time.Hour {
		errs = append(errs, fmt.Errorf("playback.viewer_window: %s must be 1s-1h", c.ViewerWindow))
	}
	return errors.Join(errs...)
}
