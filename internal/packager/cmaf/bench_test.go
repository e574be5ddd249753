package cmaf

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// BenchmarkPartLatency feeds the ffmpeg source in real time through a hub
// into the segmenter and reports the server-added latency: for every
// unit, the time from its Arrival to the publication of the part that
// holds it (p50, p99, max), with 300 ms parts. Each iteration takes the
// source's length (6 s); run with -benchtime 1x.
//
//	go test -run '^$' -bench PartLatency -benchtime 1x ./internal/packager/cmaf
func BenchmarkPartLatency(b *testing.B) {
	src := source(b)
	for b.Loop() {
		store := segstore.New(segstore.Options{PartTarget: 300 * time.Millisecond, SegmentTarget: 2 * time.Second})
		ch := store.Open(testARN, segstore.Low, segstore.FMP4)
		rd, err := ch.AddRendition("src", segstore.RenditionInfo{Tracks: src.Tracks})
		if err != nil {
			b.Fatal(err)
		}
		hub := stream.NewHub(src.Tracks, nil)
		var lat []time.Duration
		seg, err := New(hub.NewReader("seg", 0), src.Tracks, rd, Options{Latency: func(d time.Duration) { lat = append(lat, d) }})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { _ = seg.Run(context.Background()) })
		if err := src.Feed(context.Background(), hub, 1); err != nil {
			b.Fatal(err)
		}
		hub.Close()
		wg.Wait()
		ch.Close()
		slices.Sort(lat)
		pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
		b.ReportMetric(pct(0.5), "p50_ms")
		b.ReportMetric(pct(0.99), "p99_ms")
		b.ReportMetric(pct(1), "max_ms")
		b.Logf("units=%d p50=%.1fms p99=%.1fms max=%.1fms (part target 300ms)", len(lat), pct(0.5), pct(0.99), pct(1))
	}
}
