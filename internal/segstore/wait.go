package segstore

import (
	"context"
	"errors"
	"time"
)

// ErrTimeout is returned by Wait when the timeout passes first.
var ErrTimeout = errors.New("timed out waiting for media")

// ErrEnded is returned by Wait when the stream ended first.
var ErrEnded = errors.New("stream ended")

// Wait blocks until the rendition holds part idx of segment msn or later
// (idx < 0: segment msn complete or later), the stream ends, ctx ends or
// timeout passes. It returns the snapshot that satisfied the condition.
func (r *Rendition) Wait(ctx context.Context, msn uint64, idx int, timeout time.Duration) (*Snapshot, error) {
	s := r.snap.Load()
	if s.Has(msn, idx) {
		return s, nil
	}
	if s.Ended {
		return s, ErrEnded
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-s.changed:
		case <-ctx.Done():
			return s, ctx.Err()
		case <-t.C:
			return s, ErrTimeout
		}
		s = r.snap.Load()
		if s.Has(msn, idx) {
			return s, nil
		}
		if s.Ended {
			return s, ErrEnded
		}
	}
}

// WaitAny blocks until the rendition has at least one part (a new stream
// before its first part), with the same exits as Wait.
func (r *Rendition) WaitAny(ctx context.Context, timeout time.Duration) (*Snapshot, error) {
	s := r.snap.Load()
	if l := s.Last(); l != nil && len(l.Parts) > 0 {
		return s, nil
	}
	first := uint64(0)
	if l := s.Last(); l != nil {
		first = l.MSN
	}
	return r.Wait(ctx, first, 0, timeout)
}

// WaitComplete blocks until the rendition has at least one complete
// segment (what a plain HLS playlist needs), with the same exits as Wait.
func (r *Rendition) WaitComplete(ctx context.Context, timeout time.Duration) (*Snapshot, error) {
	s := r.snap.Load()
	first := uint64(0)
	if len(s.Segments) > 0 {
		first = s.Segments[0].MSN
	}
	return r.Wait(ctx, first, -1, timeout)
}
