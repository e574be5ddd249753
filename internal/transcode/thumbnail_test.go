package transcode

import (
	"bytes"
	"context"
	"image/jpeg"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/stream"
)

func TestThumbnailerIntervalAndSize(t *testing.T) {
	checkGoroutines(t)
	tracks, units := demuxFile(t, sourceTS(t, 16))
	cases := []struct {
		name     string
		interval time.Duration
		height   int
		width    int
		min, max int
	}{
		// 16 s of source: one picture at once, then one per interval.
		{"every 2 s at 360p, every frame decoded", 2 * time.Second, 360, 640, 7, 9},
		{"every 5 s at source size, key frames only", 5 * time.Second, 0, 1280, 3, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := stream.NewHub(tracks, nil)
			var mu sync.Mutex
			var got []Thumbnail
			th, err := NewThumbnailer(testCfg(), src, ThumbnailConfig{Interval: c.interval, Height: c.height, Queue: len(units) + 1},
				func(tb Thumbnail) {
					mu.Lock()
					got = append(got, tb)
					mu.Unlock()
				}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- th.Run(ctx) }()
			// Run attaches its reader first; then the whole file at once.
			waitFor(t, "the thumbnailer's reader", 5*time.Second, func() bool { return src.Readers() == 1 })
			publish(ctx, src, tracks, units, 0)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) < c.min || len(got) > c.max {
				t.Fatalf("%d thumbnails for 16 s every %v, want %d..%d", len(got), c.interval, c.min, c.max)
			}
			for i, tb := range got {
				img, err := jpeg.Decode(bytes.NewReader(tb.JPEG))
				if err != nil {
					t.Fatalf("thumbnail %d: %v", i, err)
				}
				b := img.Bounds()
				if b.Dx() != c.width || b.Dy() != max(c.height, 720*min(c.height, 1)) && c.height == 0 && b.Dy() != 720 {
					t.Fatalf("thumbnail %d is %dx%d", i, b.Dx(), b.Dy())
				}
				if c.height > 0 && b.Dy() != c.height {
					t.Fatalf("thumbnail %d is %dx%d, want height %d", i, b.Dx(), b.Dy(), c.height)
				}
				if tb.Seq != i+1 || tb.Width != b.Dx() || tb.Height != b.Dy() {
					t.Fatalf("thumbnail %d: seq %d size %dx%d", i, tb.Seq, tb.Width, tb.Height)
				}
			}
		})
	}
}

func TestThumbnailerRejectsBadConfig(t *testing.T) {
	hub := stream.NewHub(nil, nil)
	if _, err := NewThumbnailer(testCfg(), hub, ThumbnailConfig{Interval: 100 * time.Millisecond}, func(Thumbnail) {}, nil); err == nil {
		t.Error("interval below 1 s accepted")
	}
	if _, err := NewThumbnailer(testCfg(), hub, ThumbnailConfig{Interval: time.Second}, func(Thumbnail) {}, nil); err == nil {
		t.Error("source without video accepted")
	}
	if args := strings.Join(thumbnailArgs(ThumbnailConfig{Interval: 1500 * time.Millisecond, Height: 160}), " "); !strings.Contains(args,
		`-vf select='isnan(prev_selected_t)+gte(t-prev_selected_t\,1.5)',scale=-2:160 -fps_mode passthrough -c:v mjpeg`) {
		t.Errorf("args %s", args)
	}
}

func TestThumbnailerSurvivesEncoderKill(t *testing.T) {
	checkGoroutines(t)
	tracks, units := demuxFile(t, sourceTS(t, 16))
	src := stream.NewHub(tracks, nil)
	var mu sync.Mutex
	var seqs []int
	th, err := NewThumbnailer(testCfg(), src, ThumbnailConfig{Interval: time.Second, Height: 160},
		func(tb Thumbnail) {
			mu.Lock()
			seqs = append(seqs, tb.Seq)
			mu.Unlock()
		}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan error, 1)
	wg.Go(func() { done <- th.Run(ctx) })
	waitFor(t, "the thumbnailer's reader", 5*time.Second, func() bool { return src.Readers() == 1 })
	wg.Go(func() { publish(ctx, src, tracks, units, 2) })
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seqs)
	}
	waitFor(t, "two thumbnails", 20*time.Second, func() bool { return count() >= 2 })
	before := count()
	if err := th.Process().Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "thumbnails after the restart", 20*time.Second, func() bool { return count() >= before+2 })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if th.Process().Starts() != 2 {
		t.Fatalf("%d starts, want 2", th.Process().Starts())
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("sequence numbers %v are not 1, 2, 3...", seqs)
		}
	}
}
