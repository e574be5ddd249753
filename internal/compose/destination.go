package compose

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// destQueue is a destination's unit queue: about four seconds of output.
const destQueue = 512

// Destination reconnection: attempts after a failure, first delay
// (doubling).
const (
	destRetries    = 5
	destRetryDelay = time.Second
)

// destRunner delivers one encoder's units to one destination.
type destRunner struct {
	spec    DestinationSpec
	enc     *encoder
	ch      chan *media.Unit
	report  func(state, reason string)
	delay   time.Duration // first retry delay
	dropped atomic.Uint64
	failed  atomic.Bool
}

func (d *destRunner) offer(u *media.Unit) {
	select {
	case d.ch <- u:
	default:
		d.dropped.Add(1)
	}
}

// run delivers until ctx is done; it returns the failure reason when the
// destination failed for good ("" otherwise).
func (d *destRunner) run(ctx context.Context) string {
	var first *media.Unit
	select {
	case <-ctx.Done():
		return ""
	case first = <-d.ch:
	}
	tracks := *d.enc.tracks.Load()
	failures := 0
	delay := d.delay
	active := false
	for {
		w, err := d.spec.Dest.Start(ctx, tracks)
		if err != nil {
			if ctx.Err() != nil {
				return ""
			}
			failures++
			if failures > destRetries {
				reason := fmt.Sprintf("destination failed after %d attempts: %v", failures, err)
				d.failed.Store(true)
				d.report(rtapi.DestinationStateFailed, reason)
				return reason
			}
			if active {
				d.report(rtapi.DestinationStateReconnecting, err.Error())
			}
			select {
			case <-ctx.Done():
				return ""
			case <-time.After(delay):
			}
			delay = min(2*delay, 30*time.Second)
			continue
		}
		failures, delay = 0, d.delay
		d.report(rtapi.DestinationStateActive, "")
		active = true
		needKey := true
		send := func(u *media.Unit) {
			if needKey && (u.Track != 0 || !u.Key) {
				return
			}
			needKey = false
			w.Write(u)
		}
		if first != nil {
			send(first)
			first = nil
		}
	deliver:
		for {
			select {
			case <-ctx.Done():
				w.Close(nil)
				return ""
			case <-w.Done():
				w.Close(nil)
				d.report(rtapi.DestinationStateReconnecting, "destination ended the delivery")
				break deliver
			case u := <-d.ch:
				send(u)
			}
		}
	}
}
