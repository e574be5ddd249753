package compose

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/stream"
)

func TestRehint(t *testing.T) {
	tile := func(w, h int, f layout.Fill) layout.Tile {
		return layout.Tile{Rect: layout.Rect{W: w, H: h}, Fill: f}
	}
	cases := []struct {
		a, b layout.Tile
		want bool
	}{
		{tile(638, 358, layout.Cover), tile(638, 358, layout.Cover), false},
		{tile(638, 358, layout.Cover), tile(600, 340, layout.Cover), false},
		{tile(1280, 720, layout.Cover), tile(638, 358, layout.Cover), true},
		{tile(318, 178, layout.Cover), tile(638, 358, layout.Cover), true},
		{tile(638, 358, layout.Cover), tile(638, 358, layout.Contain), true},
	}
	for _, c := range cases {
		if got := rehint(c.a, c.b); got != c.want {
			t.Errorf("rehint(%v, %v) = %v", c.a, c.b, got)
		}
	}
}

// TestDecoderResize: a publisher alone is decoded at the canvas size; when
// three more join its tile shrinks and its decoder restarts at the new
// size, while the others keep their first decoder.
func TestDecoderResize(t *testing.T) {
	needFFmpeg(t)
	src := makeClip(t, "orange", 500, 2, 640, 360)
	stages := newFakeStages()
	hubs := map[string]*stream.Hub{}
	for _, id := range []string{"a", "b", "c", "d"} {
		hubs[id] = stream.NewHub(src.tracks, nil)
	}
	stages.set(nil, hubs)
	ctx, cancel := context.WithCancelCause(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	for _, h := range hubs {
		wg.Go(func() { src.play(ctx, h) })
	}
	comp := New(Options{Stages: stages, Compose: compCfg(), Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 2 * time.Second}})
	c := newComposition(comp, Spec{ARN: "arn:c", StageARN: "arn:s", Layout: layout.FromRTAPI(nil),
		Outputs: []Output{{Video: DefaultVideo}}}, cancel)
	reap := make(chan struct{}, 1)
	member := func(id string) *participant {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.members[id].p
	}
	pubs := []Publisher{{ParticipantID: "a", Joined: 1}}
	c.update(ctx, &wg, pubs, reap)
	waitForT(t, 30*time.Second, func() bool { f := member("a").latest.Load(); return f != nil })
	if f := member("a").latest.Load(); f.W != 1280 || f.H != 720 {
		t.Fatalf("alone: %dx%d", f.W, f.H)
	}
	pubs = append(pubs, Publisher{ParticipantID: "b", Joined: 2}, Publisher{ParticipantID: "c", Joined: 3}, Publisher{ParticipantID: "d", Joined: 4})
	c.update(ctx, &wg, pubs, reap)
	waitForT(t, 30*time.Second, func() bool {
		f := member("a").latest.Load()
		return f.W < 700 && member("d").latest.Load() != nil
	})
	if f := member("a").latest.Load(); f.W != 638 || f.H != 360 {
		t.Fatalf("in a 2x2 grid: %dx%d", f.W, f.H)
	}
	if r := member("a").restarts.Load(); r != 1 {
		t.Fatalf("a restarted %d times", r)
	}
	if r := member("d").restarts.Load(); r != 0 {
		t.Fatalf("d restarted %d times", r)
	}
	cancel(nil)
	c.mu.Lock()
	for _, m := range c.members {
		m.cancel()
	}
	c.mu.Unlock()
}
