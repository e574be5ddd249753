package compose

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/canvas"
	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/stream"
)

func near(a, b canvas.Color) bool {
	d := func(x, y byte) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.Y, b.Y) <= 3 && d(a.U, b.U) <= 3 && d(a.V, b.V) <= 3
}

func solid(w, h int, c canvas.Color) *canvas.Frame {
	f := canvas.NewFrame(w, h)
	f.Fill(c)
	return f
}

func centre(t layout.Tile) (int, int) { return t.X + t.W/2, t.Y + t.H/2 }

// TestCompositorReflow draws two publishers' solid frames at their grid
// positions, then adds a third: the tiles reflow to three while the output
// frame counter keeps counting.
func TestCompositorReflow(t *testing.T) {
	stages := newFakeStages()
	comp := New(Options{Stages: stages, Compose: compCfg()})
	spec := Spec{ARN: "arn:c", StageARN: "arn:s", Layout: layout.FromRTAPI(nil), Outputs: []Output{{Video: DefaultVideo}}}
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	c := newComposition(comp, spec, cancel)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)

	red, green, blue := canvas.RGB(255, 0, 0), canvas.RGB(0, 255, 0), canvas.RGB(0, 0, 255)
	colours := map[string]canvas.Color{"a": red, "b": green, "c": blue}
	pubs := []Publisher{{ParticipantID: "b", Joined: 2}, {ParticipantID: "a", Joined: 1}}
	reap := make(chan struct{}, 1)
	c.update(ctx, &wg, pubs, reap)
	setFrames := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for id, m := range c.members {
			m.p.latest.Store(solid(320, 180, colours[id]))
		}
	}
	setFrames()
	wg.Go(func() { c.videoClock(ctx, time.Now()) })

	cv := canvas.NewFrame(c.w, c.h)
	check := func(n int) {
		t.Helper()
		cv.Fill(canvas.White)
		c.render(cv, nil)
		c.mu.Lock()
		tiles := c.tiles
		c.mu.Unlock()
		if len(tiles) != n {
			t.Fatalf("%d tiles, want %d", len(tiles), n)
		}
		for _, tl := range tiles {
			x, y := centre(tl)
			if got := cv.At(x, y); !near(got, colours[tl.ParticipantID]) {
				t.Errorf("tile %s at (%d,%d) = %v, want %v", tl.ParticipantID, x, y, got, colours[tl.ParticipantID])
			}
			// The gap right of a tile is background.
			if tl.X+tl.W < c.w-1 {
				if got := cv.At(tl.X+tl.W, y); !near(got, canvas.Black) {
					t.Errorf("gap after %s = %v", tl.ParticipantID, got)
				}
			}
		}
	}
	check(2)
	// Join order, not list order: a (joined first) is on the left.
	c.mu.Lock()
	if c.tiles[0].ParticipantID != "a" || c.tiles[0].X >= c.tiles[1].X {
		t.Fatalf("order %+v", c.tiles)
	}
	c.mu.Unlock()

	waitFor(t, func() bool { return c.frames.Load() >= 5 })
	before := c.frames.Load()
	c.update(ctx, &wg, append(pubs, Publisher{ParticipantID: "c", Joined: 3}), reap)
	setFrames()
	check(3)
	waitFor(t, func() bool { return c.frames.Load() >= before+3 })
	if got := c.frames.Load(); got < before {
		t.Fatalf("frame counter went back from %d to %d", before, got)
	}

	// Muting video draws the background; leaving removes the tile.
	pubs3 := []Publisher{{ParticipantID: "a", Joined: 1, VideoStopped: true}, {ParticipantID: "b", Joined: 2}}
	c.update(ctx, &wg, pubs3, reap)
	cv.Fill(canvas.White)
	c.render(cv, nil)
	c.mu.Lock()
	x, y := centre(c.tiles[0])
	c.mu.Unlock()
	if got := cv.At(x, y); !near(got, canvas.Black) {
		t.Fatalf("muted tile shows %v", got)
	}
}

func waitFor(t *testing.T, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestResubscribeBackoff: a publisher the stage still lists but whose
// media keeps ending is subscribed again about once per resubscribeDelay,
// not in a busy loop.
func TestResubscribeBackoff(t *testing.T) {
	stages := newFakeStages()
	dead := stream.NewHub(nil, nil)
	dead.Close()
	stages.set([]Publisher{{ParticipantID: "x"}}, map[string]*stream.Hub{"x": dead})
	comp := New(Options{Stages: stages, Compose: compCfg()})
	ctx, cancel := context.WithCancelCause(t.Context())
	c := newComposition(comp, Spec{ARN: "arn:c", StageARN: "arn:s", Layout: layout.FromRTAPI(nil), Outputs: []Output{{Video: DefaultVideo}}}, cancel)
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx, &wg) })
	time.Sleep(2500 * time.Millisecond)
	cancel(nil)
	wg.Wait()
	stages.mu.Lock()
	n := stages.subscribes
	stages.mu.Unlock()
	if n < 2 || n > 4 {
		t.Fatalf("%d subscriptions in 2.5 s", n)
	}
}
