package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/stream"
)

// TestComposePip: the pip layout end to end: the second publisher is drawn
// over the first, in the bottom-right corner.
func TestComposePip(t *testing.T) {
	needFFmpeg(t)
	red := makeClip(t, "red", 440, 2, 640, 360)
	blue := makeClip(t, "blue", 1000, 2, 640, 360)
	stages := newFakeStages()
	hubs := map[string]*stream.Hub{"a": stream.NewHub(red.tracks, nil), "b": stream.NewHub(blue.tracks, nil)}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { red.play(ctx, hubs["a"]) })
	wg.Go(func() { blue.play(ctx, hubs["b"]) })
	stages.set([]Publisher{{ParticipantID: "a", Joined: 1}, {ParticipantID: "b", Joined: 2}}, hubs)
	comp := New(Options{Stages: stages, Compose: compCfg(), Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 3 * time.Second}})
	wg.Go(func() { comp.Run(ctx) })
	dest := &memDest{}
	lay := layout.FromRTAPI(&rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{PipOffset: new(int64(20))}})
	spec := Spec{ARN: "arn:pip", StageARN: "arn:stage", Layout: lay, Outputs: []Output{{
		Video: VideoConfig{Width: 1280, Height: 720, Framerate: 15, Bitrate: 1_000_000}, Destinations: []DestinationSpec{{ID: "d", Dest: dest}}}}}
	if err := comp.StartSpec(ctx, spec); err != nil {
		t.Fatal(err)
	}
	videoUnits := func() int64 {
		_, us := dest.snapshot()
		n := int64(0)
		for _, u := range us {
			if u.Track == 0 {
				n++
			}
		}
		return n
	}
	waitForT(t, 50*time.Second, func() bool {
		st, _ := comp.Stats("arn:pip")
		f, ok := st.FirstFrameDrawn[2]
		return ok && videoUnits() >= f+15
	})
	st, _ := comp.Stats("arn:pip")
	if err := comp.Stop(ctx, "arn:pip"); err != nil {
		t.Fatal(err)
	}
	tracks, units := dest.snapshot()
	out := filepath.Join(t.TempDir(), "pip.ts")
	if d := os.Getenv("COMPOSE_TEST_OUT"); d != "" {
		out = filepath.Join(d, "pip.ts")
	}
	remux(t, out, tracks, units)
	// Decode every picture at half size and take one shortly after both
	// publishers were first drawn.
	raw, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-vf", "scale=640:360", "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	const fs = 640 * 360 * 3
	k := int(st.FirstFrameDrawn[2]) + 10
	if len(raw) < (k+1)*fs {
		t.Fatalf("%d pictures decoded, want picture %d", len(raw)/fs, k)
	}
	img := raw[k*fs : (k+1)*fs]
	// Pip window: 320x180 at (940, 520) (20 px from the bottom-right).
	for _, c := range []struct {
		x, y int
		want [3]int
	}{{640, 200, [3]int{255, 0, 0}}, {100, 650, [3]int{255, 0, 0}}, {1100, 610, [3]int{0, 0, 255}}, {950, 530, [3]int{0, 0, 255}}, {1270, 710, [3]int{255, 0, 0}}, {930, 610, [3]int{255, 0, 0}}} {
		if got := rgbAt(img, 640, c.x/2, c.y/2); !closeRGB(got, c.want) {
			t.Errorf("(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
