package stream

import (
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
)

var av = []media.Track{
	{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000},
	{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000},
}

func TestReadersGetEveryUnitInOrder(t *testing.T) {
	h := NewHub(av, nil)
	a, b := h.NewReader("a", 100), h.NewReader("b", 100)
	h.Write(&media.Unit{Track: 0, PTS: 0, Key: true})
	for i := 1; i < 50; i++ {
		h.Write(&media.Unit{Track: i % 2, PTS: int64(i)})
	}
	h.Close()
	for _, r := range []*Reader{a, b} {
		var n int64
		for u := range r.C() {
			if u.PTS != n {
				t.Fatalf("%s: got PTS %d, want %d", r.name, u.PTS, n)
			}
			n++
		}
		if n != 50 || r.Dropped() != 0 {
			t.Fatalf("%s: %d units, %d dropped", r.name, n, r.Dropped())
		}
	}
}

func TestSlowReaderNeverBlocksPublisher(t *testing.T) {
	h := NewHub(av, nil)
	slow := h.NewReader("slow", 4) // never read
	fast := h.NewReader("fast", 10000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5000 {
			h.Write(&media.Unit{Track: 0, PTS: int64(i), Key: i%30 == 0})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher blocked by a slow reader")
	}
	if slow.Dropped() < 4990 {
		t.Fatalf("slow reader dropped %d, want nearly all", slow.Dropped())
	}
	if len(fast.C()) != 5000 || fast.Dropped() != 0 {
		t.Fatalf("fast reader got %d, dropped %d", len(fast.C()), fast.Dropped())
	}
}

func TestAfterDropReaderResumesAtKeyFrameWithDiscontinuity(t *testing.T) {
	h := NewHub(av, nil)
	r := h.NewReader("r", 2)
	h.Write(&media.Unit{Track: 0, PTS: 0, Key: true})
	h.Write(&media.Unit{Track: 0, PTS: 1})
	h.Write(&media.Unit{Track: 0, PTS: 2}) // dropped: queue full
	<-r.C()
	<-r.C()
	h.Write(&media.Unit{Track: 0, PTS: 3})            // skipped: waiting for key
	h.Write(&media.Unit{Track: 1, PTS: 4, Key: true}) // audio passes, marks the gap
	h.Write(&media.Unit{Track: 0, PTS: 5, Key: true})
	u := <-r.C()
	if u.PTS != 4 || !u.Discontinuity {
		t.Fatalf("first unit after gap: %+v", u)
	}
	u = <-r.C()
	if u.PTS != 5 || u.Discontinuity {
		t.Fatalf("key frame after gap: %+v", u)
	}
	if r.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", r.Dropped())
	}
}

func TestNewReaderStartsAtKeyFrame(t *testing.T) {
	h := NewHub(av, nil)
	h.Write(&media.Unit{Track: 0, PTS: 0, Key: true})
	r := h.NewReader("late", 10)
	h.Write(&media.Unit{Track: 0, PTS: 1})
	h.Write(&media.Unit{Track: 0, PTS: 2, Key: true})
	if u := <-r.C(); u.PTS != 2 {
		t.Fatalf("late reader started at %d", u.PTS)
	}
}

func TestCloseAndConcurrentReaders(t *testing.T) {
	h := NewHub(av, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r := h.NewReader("x", 8)
			for range 20 {
				select {
				case <-r.C():
				default:
				}
			}
			r.Close()
			r.Close()
		})
	}
	for i := range 1000 {
		h.Write(&media.Unit{Track: 0, PTS: int64(i), Key: true})
	}
	wg.Wait()
	h.Close()
	h.Close()
	if h.Readers() != 0 {
		t.Fatal("readers left")
	}
	late := h.NewReader("after-close", 1)
	if _, ok := <-late.C(); ok {
		t.Fatal("reader of a closed hub must be closed")
	}
	h.Write(&media.Unit{Track: 0}) // no panic after close
}

func BenchmarkWriteFourReaders(b *testing.B) {
	h := NewHub(av, nil)
	var wg sync.WaitGroup
	for range 4 {
		r := h.NewReader("bench", 1024)
		wg.Go(func() {
			for range r.C() {
			}
		})
	}
	u := &media.Unit{Track: 0, Key: true}
	b.ReportAllocs()
	for b.Loop() {
		h.Write(u)
	}
	h.Close()
	wg.Wait()
}
