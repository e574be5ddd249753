package compose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/compose/canvas"
	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/transcode"
)

// Errors Start returns.
var (
	ErrNotRunning = errors.New("compositor is not running")
	ErrTooMany    = errors.New("too many compositions on this server")
	ErrExists     = errors.New("composition is already running")
)

// Options configure a Composer.
type Options struct {
	Transcode config.Transcode
	Compose   config.Compose
	Stages    Stages
	// EncoderConfig resolves an encoder configuration ARN ("" means the
	// IVS defaults and is not passed).
	EncoderConfig func(ctx context.Context, arn string) (VideoConfig, error)
	// Destination builds the destination of one of c's destinations.
	Destination func(ctx context.Context, c *rtapi.Composition, d rtapi.Destination) (Destination, error)
	// OnState receives every state change (may be nil).
	OnState func(State)
	// Threads is each decoder's ffmpeg thread count (default 1: low
	// latency; the decoders run in parallel anyway).
	Threads int
	Log     *slog.Logger
}

type startReq struct {
	spec  Spec
	reply chan error
}

// Composer runs compositions. Run must be running for Start to work.
type Composer struct {
	opts    Options
	log     *slog.Logger
	bg      canvas.Color
	startCh chan startReq
	// retryDelay is the first destination retry delay (tests shorten it).
	retryDelay time.Duration

	cpu processCPU

	// mu guards running.
	mu      sync.Mutex
	running map[string]*composition
}

// New returns a Composer.
func New(o Options) *Composer {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Transcode.FFmpeg == "" {
		o.Transcode.FFmpeg = "ffmpeg"
	}
	if o.Compose.IdleTimeout <= 0 {
		o.Compose.IdleTimeout = 60 * time.Second
	}
	if o.Compose.MaxCompositions <= 0 {
		o.Compose.MaxCompositions = 4
	}
	if o.Compose.X264Preset == "" {
		o.Compose.X264Preset = "veryfast"
	}
	log := o.Log.With("component", "compose")
	return &Composer{opts: o, log: log, bg: parseColor(o.Compose.Background), startCh: make(chan startReq), retryDelay: destRetryDelay, running: map[string]*composition{}}
}

func parseColor(hex string) canvas.Color {
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		return canvas.Black
	}
	return canvas.RGB(int(v>>16), int(v>>8&0xff), int(v&0xff))
}

// Run runs compositions until ctx is done, then stops them all and
// returns after they exited.
func (c *Composer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case req := <-c.startCh:
			req.reply <- c.spawn(ctx, &wg, req.spec)
		}
	}
}

func (c *Composer) spawn(ctx context.Context, wg *sync.WaitGroup, spec Spec) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.running[spec.ARN]; ok {
		return ErrExists
	}
	if len(c.running) >= c.opts.Compose.MaxCompositions {
		return fmt.Errorf("%w (%d)", ErrTooMany, c.opts.Compose.MaxCompositions)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	comp := newComposition(c, spec, cancel)
	c.running[spec.ARN] = comp
	wg.Go(func() {
		defer close(comp.done)
		comp.run(cctx)
		c.mu.Lock()
		delete(c.running, spec.ARN)
		c.mu.Unlock()
	})
	return nil
}

// Start resolves c's encoder configurations and destinations and starts
// it (stages.Compositor). State changes follow through Options.OnState.
func (c *Composer) Start(ctx context.Context, rc *rtapi.Composition) error {
	spec, err := c.Spec(ctx, rc)
	if err != nil {
		return err
	}
	return c.StartSpec(ctx, spec)
}

// StartSpec starts a composition from a resolved spec.
func (c *Composer) StartSpec(ctx context.Context, spec Spec) error {
	if len(spec.Outputs) == 0 {
		return errors.New("composition has no destination")
	}
	for _, o := range spec.Outputs {
		if err := o.Video.validate(); err != nil {
			return err
		}
	}
	req := startReq{spec: spec, reply: make(chan error, 1)}
	select {
	case c.startCh <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
		return ErrNotRunning
	}
	return <-req.reply
}

// Spec resolves an API composition into a Spec.
func (c *Composer) Spec(ctx context.Context, rc *rtapi.Composition) (Spec, error) {
	spec := Spec{ARN: deref(rc.Arn), StageARN: deref(rc.StageArn), Layout: layout.FromRTAPI(rc.Layout)}
	byEncoder := map[string]int{}
	for _, d := range rc.Destinations {
		if d.Configuration == nil {
			continue
		}
		encARN := ""
		switch {
		case d.Configuration.Channel != nil:
			encARN = deref(d.Configuration.Channel.EncoderConfigurationArn)
		case d.Configuration.S3 != nil && len(d.Configuration.S3.EncoderConfigurationArns) > 0:
			encARN = d.Configuration.S3.EncoderConfigurationArns[0]
		}
		i, ok := byEncoder[encARN]
		if !ok {
			v := DefaultVideo
			if encARN != "" && c.opts.EncoderConfig != nil {
				var err error
				if v, err = c.opts.EncoderConfig(ctx, encARN); err != nil {
					return Spec{}, fmt.Errorf("encoder configuration %s: %w", encARN, err)
				}
			}
			i = len(spec.Outputs)
			byEncoder[encARN] = i
			spec.Outputs = append(spec.Outputs, Output{Video: v})
		}
		if c.opts.Destination == nil {
			return Spec{}, errors.New("no destination support is configured")
		}
		dest, err := c.opts.Destination(ctx, rc, d)
		if err != nil {
			return Spec{}, fmt.Errorf("destination %s: %w", deref(d.Id), err)
		}
		spec.Outputs[i].Destinations = append(spec.Outputs[i].Destinations, DestinationSpec{ID: deref(d.Id), Dest: dest})
	}
	return spec, nil
}

// Stop ends composition arn and returns after it exited (or ctx is
// done). Stopping an unknown composition succeeds.
func (c *Composer) Stop(ctx context.Context, arn string) error {
	c.mu.Lock()
	comp := c.running[arn]
	c.mu.Unlock()
	if comp == nil {
		return nil
	}
	comp.cancel(errStopped)
	select {
	case <-comp.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats describes a running composition (for tests and benchmarks).
type Stats struct {
	// Frames is the output frame counter (never reset while running).
	Frames int64
	// Participants is how many publishers are subscribed; Tiles how many
	// are drawn.
	Participants, Tiles int
	// Units counts encoded units delivered; EncoderRestarts counts
	// encoder crashes.
	Units           uint64
	EncoderRestarts int64
	// Behind counts frames the clock could not queue to an encoder (they
	// are repeated later); Skipped those dropped because the encoder was
	// more than 2 s late.
	Behind, Skipped uint64
	// RenderTime is the compositor's total drawing time.
	RenderTime time.Duration
	// DestDropped counts units lost to full destination queues.
	DestDropped uint64
	// FirstFrameDrawn maps k to the first output frame (of the first
	// encoder) whose canvas showed k pictures.
	FirstFrameDrawn map[int]int64
	// Decoded counts decoded pictures per participant.
	Decoded map[string]uint64
}

// Stats returns a running composition's counters.
func (c *Composer) Stats(arn string) (Stats, bool) {
	c.mu.Lock()
	comp := c.running[arn]
	c.mu.Unlock()
	if comp == nil {
		return Stats{}, false
	}
	return comp.stats(), true
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// processCPU accumulates the CPU time (rusage) of exited processes.
type processCPU struct {
	encoders, videoDecoders, audioDecoders atomic.Int64
}

// Process kinds for processCPU.onExit.
const (
	kindEncoder = iota
	kindVideoDecoder
	kindAudioDecoder
)

// onExit returns an OnExit hook adding the process's CPU time to its kind
// (nil for a nil processCPU).
func (p *processCPU) onExit(kind int) func(transcode.Exit) {
	if p == nil {
		return nil
	}
	c := [...]*atomic.Int64{kindEncoder: &p.encoders, kindVideoDecoder: &p.videoDecoders, kindAudioDecoder: &p.audioDecoders}[kind]
	return func(e transcode.Exit) { c.Add(int64(e.CPU())) }
}

// CPU is the CPU time used by the processes that have exited so far.
type CPU struct {
	Encoders, VideoDecoders, AudioDecoders time.Duration
}

// CPU returns the CPU time of every exited composition process (for
// benchmarks and operators).
func (c *Composer) CPU() CPU {
	return CPU{Encoders: time.Duration(c.cpu.encoders.Load()), VideoDecoders: time.Duration(c.cpu.videoDecoders.Load()),
		AudioDecoders: time.Duration(c.cpu.audioDecoders.Load())}
}
