package compose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/compose/canvas"
	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/compose/mix"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Mixer jitter handling: an input plays once it has buffered
// mixPrebuffer and never runs more than mixMaxLatency ahead.
const (
	mixPrebuffer  = 60 * time.Millisecond
	mixMaxLatency = 300 * time.Millisecond
)

// Reasons a composition ends.
var (
	errStopped = errors.New("stopped")
	errIdle    = errors.New("no publisher on the stage for the idle timeout")
)

// failure is a cancel cause that ends the composition FAILED.
type failure struct{ reason string }

func (f *failure) Error() string { return f.reason }

type member struct {
	p      *participant
	pub    Publisher
	cancel context.CancelFunc
	done   chan struct{}
}

type composition struct {
	c      *Composer
	spec   Spec
	log    *slog.Logger
	cancel context.CancelCauseFunc
	done   chan struct{}
	mixer  *mix.Mixer
	encs   []*encoder
	dests  []*destRunner
	w, h   int
	fps    float64

	frames     atomic.Int64
	renderNs   atomic.Int64
	activeOnce sync.Once
	failed     atomic.Int32
	ndest      int

	// mu guards members and tiles.
	mu      sync.Mutex
	members map[string]*member
	tiles   []layout.Tile

	// failedAt is when a publisher's subscription last failed or ended
	// (watch loop only).
	failedAt map[string]time.Time
}

func newComposition(c *Composer, spec Spec, cancel context.CancelCauseFunc) *composition {
	comp := &composition{c: c, spec: spec, cancel: cancel, done: make(chan struct{}),
		log:   c.log.With("composition_arn", spec.ARN, "stage_arn", spec.StageARN),
		mixer: mix.New(mixPrebuffer, mixMaxLatency), members: map[string]*member{}}
	// The canvas is the largest output; smaller outputs are scaled by
	// their encoder.
	for _, o := range spec.Outputs {
		if o.Video.Width*o.Video.Height > comp.w*comp.h {
			comp.w, comp.h = o.Video.Width, o.Video.Height
		}
		comp.fps = max(comp.fps, o.Video.Framerate)
		comp.ndest += len(o.Destinations)
	}
	pool := &sync.Pool{New: func() any { b := make([]byte, 0, canvas.Size(comp.w, comp.h)); return &b }}
	for _, o := range spec.Outputs {
		e := &encoder{out: o, canvasW: comp.w, canvasH: comp.h, fps: comp.fps, preset: c.opts.Compose.X264Preset,
			log: comp.log, pool: pool, cpu: &c.cpu}
		var runners []*destRunner
		for _, d := range o.Destinations {
			r := &destRunner{spec: d, enc: e, ch: make(chan *media.Unit, destQueue), delay: c.retryDelay}
			r.report = func(state, reason string) {
				if state == rtapi.DestinationStateActive {
					comp.activeOnce.Do(func() { comp.report("", rtapi.CompositionStateActive, "") })
				}
				comp.report(d.ID, state, reason)
			}
			runners = append(runners, r)
			comp.dests = append(comp.dests, r)
		}
		e.deliver = func(u *media.Unit) {
			for _, r := range runners {
				r.offer(u)
			}
		}
		e.start(&c.opts)
		comp.encs = append(comp.encs, e)
	}
	return comp
}

func (c *composition) report(dest, state, reason string) {
	if c.c.opts.OnState == nil {
		return
	}
	c.c.opts.OnState(State{CompositionARN: c.spec.ARN, DestinationID: dest, State: state, Reason: reason, At: time.Now()})
}

func (c *composition) stats() Stats {
	c.mu.Lock()
	s := Stats{Frames: c.frames.Load(), Participants: len(c.members), Tiles: len(c.tiles),
		RenderTime: time.Duration(c.renderNs.Load()), Decoded: map[string]uint64{}}
	for id, m := range c.members {
		s.Decoded[id] = m.p.decoded.Load()
	}
	c.mu.Unlock()
	for _, e := range c.encs {
		s.Units += e.units.Load()
		s.EncoderRestarts += e.restarts.Load()
		s.Behind += e.behind.Load()
		s.Skipped += e.skipped.Load()
	}
	s.FirstFrameDrawn = map[int]int64{}
	if len(c.encs) > 0 {
		for k := range c.encs[0].firstDrawn {
			if f := c.encs[0].firstDrawn[k].Load(); f >= 0 {
				s.FirstFrameDrawn[k] = f
			}
		}
	}
	for _, r := range c.dests {
		s.DestDropped += r.dropped.Load()
	}
	return s
}

// run is the composition's life; it returns after every goroutine and
// process it started exited.
func (c *composition) run(ctx context.Context) {
	c.report("", rtapi.CompositionStateStarting, "")
	c.log.Info("composition starting", "width", c.w, "height", c.h, "fps", c.fps, "outputs", len(c.spec.Outputs))
	var wg sync.WaitGroup
	for _, r := range c.dests {
		wg.Go(func() {
			if reason := r.run(ctx); reason != "" && int(c.failed.Add(1)) == c.ndest {
				c.cancel(&failure{reason: "every destination failed: " + reason})
			}
		})
	}
	for _, e := range c.encs {
		wg.Go(func() {
			if err := e.proc.Run(ctx); err != nil {
				c.cancel(&failure{reason: fmt.Sprintf("encoder: %v", err)})
			}
		})
	}
	t0 := time.Now()
	wg.Go(func() { c.videoClock(ctx, t0) })
	wg.Go(func() { c.audioClock(ctx, t0) })

	c.watch(ctx, &wg)

	cause := context.Cause(ctx)
	if errors.Is(cause, errIdle) {
		c.report("", rtapi.CompositionStateStopping, errIdle.Error())
	}
	c.mu.Lock()
	for _, m := range c.members {
		m.cancel()
	}
	c.mu.Unlock()
	wg.Wait()

	var f *failure
	if errors.As(cause, &f) {
		c.log.Warn("composition failed", "reason", f.reason)
		c.report("", rtapi.CompositionStateFailed, f.reason)
		return
	}
	for _, r := range c.dests {
		if !r.failed.Load() {
			c.report(r.spec.ID, rtapi.DestinationStateStopped, "")
		}
	}
	c.log.Info("composition stopped", "reason", cause.Error(), "frames", c.frames.Load())
	c.report("", rtapi.CompositionStateStopped, "")
}

// watch follows the stage's publishers until the composition ends.
func (c *composition) watch(ctx context.Context, wg *sync.WaitGroup) {
	o := &c.c.opts
	if o.Stages == nil {
		c.cancel(&failure{reason: "no stage media (SFU) on this server"})
		return
	}
	ch, err := o.Stages.Watch(ctx, c.spec.StageARN)
	if err != nil {
		c.cancel(&failure{reason: fmt.Sprintf("watch stage: %v", err)})
		return
	}
	idle := time.NewTimer(o.Compose.IdleTimeout)
	defer idle.Stop()
	// retry re-runs update when a subscription is being retried.
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	// reap wakes the loop when a participant's source ended.
	reap := make(chan struct{}, 1)
	var pubs []Publisher
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			c.cancel(errIdle)
			return
		case <-reap:
		case <-retry.C:
		case p, ok := <-ch:
			if !ok {
				c.cancel(errStopped)
				return
			}
			pubs = p
		}
		if c.update(ctx, wg, pubs, reap) {
			retry.Reset(resubscribeDelay)
		}
		if len(pubs) > 0 {
			idle.Stop()
		} else {
			idle.Reset(o.Compose.IdleTimeout)
		}
	}
}

// resubscribeDelay spaces subscriptions to a publisher whose media ended
// or could not be subscribed while the stage still lists it.
const resubscribeDelay = time.Second

// update reconciles members with the publishers and recomputes the tiles.
// It returns true when a subscription was put off (call again after
// resubscribeDelay). Only the watch loop calls it.
func (c *composition) update(ctx context.Context, wg *sync.WaitGroup, pubs []Publisher, reap chan struct{}) bool {
	o := &c.c.opts
	if c.failedAt == nil {
		c.failedAt = map[string]time.Time{}
	}
	retry := false
	want := map[string]Publisher{}
	for _, p := range pubs {
		want[p.ParticipantID] = p
	}
	c.mu.Lock()
	for id, m := range c.members {
		ended := false
		select {
		case <-m.done:
			ended = true
		default:
		}
		if _, ok := want[id]; !ok || ended {
			m.cancel()
			delete(c.members, id)
			if ended {
				c.failedAt[id] = time.Now()
			}
		}
	}
	for id := range c.failedAt {
		if _, ok := want[id]; !ok {
			delete(c.failedAt, id)
		}
	}
	var add []Publisher
	for id, p := range want {
		if m, ok := c.members[id]; ok {
			m.pub = p
		} else {
			add = append(add, p)
		}
	}
	c.mu.Unlock()
	for _, p := range add {
		if t, ok := c.failedAt[p.ParticipantID]; ok && time.Since(t) < resubscribeDelay {
			retry = true
			continue
		}
		src, err := o.Stages.Subscribe(ctx, c.spec.StageARN, p.ParticipantID)
		if err != nil {
			lvl := slog.LevelWarn
			if _, again := c.failedAt[p.ParticipantID]; again {
				lvl = slog.LevelDebug // retried every resubscribeDelay: warn once
			}
			c.log.Log(ctx, lvl, "subscribe to publisher failed", "participant_id", p.ParticipantID, "err", err)
			c.failedAt[p.ParticipantID] = time.Now()
			retry = true
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		m := &member{pub: p, cancel: cancel, done: make(chan struct{}),
			p: newParticipant(p.ParticipantID, src, c.log.With("participant_id", p.ParticipantID), c.tileFor(pubs, p.ParticipantID), &c.c.cpu)}
		c.mu.Lock()
		c.members[p.ParticipantID] = m
		c.mu.Unlock()
		wg.Go(func() {
			defer close(m.done)
			m.p.run(pctx, o, c.mixer, func() {
				if err := o.Stages.RequestKeyFrame(pctx, c.spec.StageARN, m.p.id); err != nil {
					m.p.log.Debug("key frame request failed", "err", err)
				}
			})
			c.mixer.Remove(m.p.id)
			select {
			case reap <- struct{}{}:
			default:
			}
		})
	}
	c.relayout()
	return retry
}

// tileFor is id's tile among pubs (a default tile when it is not drawn).
func (c *composition) tileFor(pubs []Publisher, id string) layout.Tile {
	for _, t := range layout.Compute(c.spec.Layout, c.w, c.h, toLayout(pubs)) {
		if t.ParticipantID == id {
			return t
		}
	}
	return layout.Tile{Rect: layout.Rect{W: c.w / 4, H: c.h / 4}}
}

func toLayout(pubs []Publisher) []layout.Participant {
	out := make([]layout.Participant, len(pubs))
	for i, p := range pubs {
		out[i] = layout.Participant{ID: p.ParticipantID, Attributes: p.Attributes, VideoStopped: p.VideoStopped, Joined: p.Joined}
	}
	return out
}

func (c *composition) relayout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	pubs := make([]Publisher, 0, len(c.members))
	for _, m := range c.members {
		pubs = append(pubs, m.pub)
	}
	c.tiles = layout.Compute(c.spec.Layout, c.w, c.h, toLayout(pubs))
	for _, t := range c.tiles {
		c.members[t.ParticipantID].p.setHint(t)
	}
}

// render draws the current tiles into cv and returns how many show a
// picture.
func (c *composition) render(cv *canvas.Frame, s *canvas.Scaler) int {
	c.mu.Lock()
	tiles := c.tiles
	frames := make([]*canvas.Frame, len(tiles))
	for i, t := range tiles {
		if m := c.members[t.ParticipantID]; m != nil && !m.pub.VideoStopped {
			frames[i] = m.p.latest.Load()
		}
	}
	c.mu.Unlock()
	bg := c.c.bg
	cv.Fill(bg)
	drawn := 0
	for i, t := range tiles {
		canvas.Draw(cv, frames[i], t.Rect, t.Fill, bg, s)
		if frames[i] != nil {
			drawn++
		}
	}
	return drawn
}

// sleepUntil waits for t or ctx; false when ctx ended.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// videoClock renders one canvas per output frame period (frames that are
// late are repeated, not skipped) and queues it to every encoder.
func (c *composition) videoClock(ctx context.Context, t0 time.Time) {
	period := float64(time.Second) / c.fps
	buf := make([]byte, canvas.Size(c.w, c.h))
	cv := &canvas.Frame{W: c.w, H: c.h}
	cv.SetBytes(buf) // the planes are views of buf: no copy per frame
	var s canvas.Scaler
	var emitted int64
	for sleepUntil(ctx, t0.Add(time.Duration(float64(emitted)*period))) {
		due := int64(float64(time.Since(t0))/period) + 1
		n := due - emitted
		start := time.Now()
		drawn := c.render(cv, &s)
		c.renderNs.Add(int64(time.Since(start)))
		for _, e := range c.encs {
			e.pushVideo(buf, n, drawn)
		}
		emitted = due
		c.frames.Store(emitted)
	}
}

// audioClock mixes one 20 ms frame per period and queues it to every
// encoder.
func (c *composition) audioClock(ctx context.Context, t0 time.Time) {
	var emitted int64
	samples := make([]int16, mix.FrameSamples)
	for sleepUntil(ctx, t0.Add(time.Duration(emitted)*mix.FrameDuration)) {
		due := int64(time.Since(t0)/mix.FrameDuration) + 1
		for ; emitted < due; emitted++ {
			c.mixer.Mix(samples)
			pcm := make([]byte, mix.FrameBytes)
			mix.Encode(pcm, samples)
			for _, e := range c.encs {
				e.pushAudio(pcm)
			}
		}
	}
}
