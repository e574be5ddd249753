package compose

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
)

// stateLog records reported states.
type stateLog struct {
	mu sync.Mutex
	s  []string
	ch chan State
}

func newStateLog() *stateLog { return &stateLog{ch: make(chan State, 100)} }

func (l *stateLog) on(s State) {
	l.mu.Lock()
	l.s = append(l.s, s.DestinationID+":"+s.State)
	l.mu.Unlock()
	l.ch <- s
}

func (l *stateLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.s)
}

// waitState waits for a composition-level state.
func (l *stateLog) waitState(t *testing.T, state string, d time.Duration) State {
	t.Helper()
	tm := time.After(d)
	for {
		select {
		case s := <-l.ch:
			if s.DestinationID == "" && s.State == state {
				return s
			}
		case <-tm:
			t.Fatalf("no %s within %s; states %v", state, d, l.get())
		}
	}
}

func testComposer(t *testing.T, stages Stages, idle time.Duration, log *stateLog) (*Composer, func()) {
	cfg := compCfg()
	cfg.IdleTimeout = idle
	comp := New(Options{Stages: stages, Compose: cfg, OnState: log.on,
		Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 3 * time.Second}})
	comp.retryDelay = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { comp.Run(ctx) })
	return comp, func() { cancel(); wg.Wait() }
}

func specWith(arn string, dests ...Destination) Spec {
	o := Output{Video: VideoConfig{Width: 320, Height: 180, Framerate: 15, Bitrate: 300_000}}
	for i, d := range dests {
		o.Destinations = append(o.Destinations, DestinationSpec{ID: fmt.Sprintf("d%d", i+1), Dest: d})
	}
	return Spec{ARN: arn, StageARN: "arn:stage", Layout: layout.FromRTAPI(nil), Outputs: []Output{o}}
}

// TestIdleStop: an empty stage stops the composition by itself after the
// idle timeout, with every process and goroutine gone.
func TestIdleStop(t *testing.T) {
	needFFmpeg(t)
	before := runtime.NumGoroutine()
	log := newStateLog()
	comp, stop := testComposer(t, newFakeStages(), 3*time.Second, log)
	defer stop()
	dest := &memDest{}
	if err := comp.StartSpec(t.Context(), specWith("arn:idle", dest)); err != nil {
		t.Fatal(err)
	}
	log.waitState(t, "STOPPED", 30*time.Second)
	want := []string{":STARTING", ":ACTIVE", "d1:ACTIVE", ":STOPPING", "d1:STOPPED", ":STOPPED"}
	got := log.get()
	if len(got) == 4 { // a machine too busy to encode within the idle timeout
		want = slices.Delete(want, 1, 3)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	waitForT(t, 5*time.Second, func() bool { _, ok := comp.Stats("arn:idle"); return !ok })
	stop()
	waitForT(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= before+2 })
	// The output was black video with audio, starting at a key frame.
	if _, units := dest.snapshot(); len(got) == 6 && (len(units) == 0 || units[0].Track != 0 || !units[0].Key) {
		t.Fatalf("%d units, first %+v", len(units), units)
	}
}

// failingDest fails every Start.
type failingDest struct{ n int }

func (f *failingDest) Start(context.Context, []media.Track) (Writer, error) {
	f.n++
	return nil, errors.New("channel is gone")
}

// flakyDest ends its first delivery after a few units, then works.
type flakyDest struct {
	memDest
	ended bool
}

func (f *flakyDest) Write(u *media.Unit) {
	f.memDest.Write(u)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ended && len(f.units) == 20 {
		f.ended = true
		close(f.done)
	}
}

func (f *flakyDest) Start(ctx context.Context, tracks []media.Track) (Writer, error) {
	if _, err := f.memDest.Start(ctx, tracks); err != nil {
		return nil, err
	}
	return f, nil
}

// TestDestinationStates: a destination that keeps failing goes FAILED
// while the composition stays up for the other one, which reconnects once
// its delivery ended; when all destinations failed the composition fails.
func TestDestinationStates(t *testing.T) {
	needFFmpeg(t)
	log := newStateLog()
	comp, stop := testComposer(t, newFakeStages(), time.Minute, log)
	defer stop()
	bad, flaky := &failingDest{}, &flakyDest{}
	if err := comp.StartSpec(t.Context(), specWith("arn:dest", bad, flaky)); err != nil {
		t.Fatal(err)
	}
	log.waitState(t, "ACTIVE", 20*time.Second)
	waitForT(t, 20*time.Second, func() bool {
		s := log.get()
		r := slices.Index(s, "d2:RECONNECTING")
		return slices.Contains(s, "d1:FAILED") && r >= 0 && slices.Contains(s[r:], "d2:ACTIVE")
	})
	if bad.n != destRetries+1 {
		t.Fatalf("bad destination started %d times", bad.n)
	}
	if err := comp.Stop(t.Context(), "arn:dest"); err != nil {
		t.Fatal(err)
	}
	if flaky.starts < 2 {
		t.Fatalf("flaky destination started %d times", flaky.starts)
	}
	if s := log.get(); s[len(s)-1] != ":STOPPED" || slices.Contains(s, "d1:STOPPED") || !slices.Contains(s, "d2:STOPPED") {
		t.Fatalf("states %v", s)
	}

	// Only failing destinations: the composition fails.
	if err := comp.StartSpec(t.Context(), specWith("arn:dead", &failingDest{})); err != nil {
		t.Fatal(err)
	}
	st := log.waitState(t, "FAILED", 20*time.Second)
	if st.CompositionARN != "arn:dead" || st.Reason == "" {
		t.Fatalf("failure %+v", st)
	}
}

func TestStartErrors(t *testing.T) {
	log := newStateLog()
	c := New(Options{Stages: newFakeStages(), Compose: compCfg(), OnState: log.on})
	// Not running.
	if err := c.StartSpec(t.Context(), specWith("arn:x", &memDest{})); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("err %v", err)
	}
	bad := specWith("arn:x", &memDest{})
	bad.Outputs[0].Video.Width = 3
	if err := c.StartSpec(t.Context(), bad); err == nil {
		t.Fatal("odd width accepted")
	}
	if err := c.StartSpec(t.Context(), Spec{ARN: "arn:x"}); err == nil {
		t.Fatal("no destination accepted")
	}
}

// TestEncoderRestart: an encoder that dies is restarted; the output's
// timestamps continue (the first unit after the restart is flagged
// Discontinuity) and the destination keeps its delivery.
func TestEncoderRestart(t *testing.T) {
	needFFmpeg(t)
	log := newStateLog()
	comp, stop := testComposer(t, newFakeStages(), time.Minute, log)
	defer stop()
	dest := &memDest{}
	if err := comp.StartSpec(t.Context(), specWith("arn:restart", dest)); err != nil {
		t.Fatal(err)
	}
	video := func() []*media.Unit {
		_, us := dest.snapshot()
		var v []*media.Unit
		for _, u := range us {
			if u.Track == 0 {
				v = append(v, u)
			}
		}
		return v
	}
	waitForT(t, 30*time.Second, func() bool { return len(video()) >= 20 })
	comp.mu.Lock()
	e := comp.running["arn:restart"].encs[0]
	comp.mu.Unlock()
	if err := e.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitForT(t, 30*time.Second, func() bool {
		v := video()
		return e.restarts.Load() == 1 && slices.ContainsFunc(v, func(u *media.Unit) bool { return u.Discontinuity }) && len(v) >= 60
	})
	if err := comp.Stop(t.Context(), "arn:restart"); err != nil {
		t.Fatal(err)
	}
	v := video()
	disc := 0
	for i := 1; i < len(v); i++ {
		if v[i].PTS <= v[i-1].PTS {
			t.Fatalf("unit %d: PTS %d after %d", i, v[i].PTS, v[i-1].PTS)
		}
		if v[i].Discontinuity {
			disc++
			if !v[i].Key {
				t.Fatal("restart does not begin with a key frame")
			}
		}
	}
	if disc != 1 || dest.starts != 1 {
		t.Fatalf("%d discontinuities, %d destination starts", disc, dest.starts)
	}
}
