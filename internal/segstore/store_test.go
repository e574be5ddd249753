package segstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

const arn = "arn:aws:ivs:us-east-1:123456789012:channel/abcdABCD1234"

func newRendition(t *testing.T, opts Options) (*Store, *Channel, *Rendition) {
	t.Helper()
	s := New(opts)
	ch := s.Open(arn, Low, FMP4)
	t.Cleanup(ch.Close)
	r, err := ch.AddRendition("src", RenditionInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return s, ch, r
}

func addSegment(r *Rendition, parts int) {
	r.StartSegment(time.Now())
	for i := range parts {
		r.AddPart([]byte{byte(i)}, 100*time.Millisecond, i == 0, 3)
	}
}

func TestSnapshotWindowAndLookups(t *testing.T) {
	t.Parallel()
	var events []SegmentEvent
	_, _, r := newRendition(t, Options{WindowSegments: 3, OnSegment: func(e SegmentEvent) { events = append(events, e) }})
	r.SetInit([]byte("init0"))
	for range 6 {
		addSegment(r, 4)
	}
	s := r.Snapshot()
	if len(s.Segments) != 4 || s.Segments[0].MSN != 2 || s.Last().MSN != 5 || s.Last().Complete {
		t.Fatalf("window: %d segments from %d, last %d complete=%v", len(s.Segments), s.Segments[0].MSN, s.Last().MSN, s.Last().Complete)
	}
	if s.Segment(1) != nil || s.Segment(6) != nil || s.Segment(3) == nil {
		t.Error("Segment lookup outside/inside window")
	}
	if p := s.Part(5, 3); p == nil || p.Index != 3 || s.Part(5, 4) != nil {
		t.Error("Part lookup")
	}
	if seg := s.Segment(4); seg.Duration != 400*time.Millisecond || seg.Size != 4 || seg.Frames != 12 || !seg.Complete {
		t.Errorf("segment 4: %+v", seg)
	}
	if len(events) != 5 || events[0].Segment.MSN != 0 || string(events[0].Init) != "init0" || events[4].Segment.MSN != 4 {
		t.Errorf("OnSegment events: %d", len(events))
	}
	if string(s.InitData(0)) != "init0" || s.InitData(1) != nil {
		t.Error("InitData")
	}
	for _, tc := range []struct {
		msn  uint64
		idx  int
		want bool
	}{{5, 3, true}, {5, 4, false}, {4, 99, true}, {5, -1, false}, {4, -1, true}, {6, 0, false}} {
		if got := s.Has(tc.msn, tc.idx); got != tc.want {
			t.Errorf("Has(%d, %d) = %v", tc.msn, tc.idx, got)
		}
	}
}

func TestDiscontinuitySequence(t *testing.T) {
	t.Parallel()
	_, _, r := newRendition(t, Options{WindowSegments: 3})
	addSegment(r, 1)
	r.MarkDiscontinuity()
	addSegment(r, 1)
	if !r.Snapshot().Last().Discontinuity {
		t.Fatal("segment after MarkDiscontinuity not flagged")
	}
	for range 4 {
		addSegment(r, 1)
	}
	if got := r.Snapshot().DiscontinuitySeq; got != 1 {
		t.Errorf("DiscontinuitySeq = %d after the flagged segment left the window, want 1", got)
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	_, ch, r := newRendition(t, Options{})
	addSegment(r, 2)

	t.Run("ready now", func(t *testing.T) {
		if _, err := r.Wait(context.Background(), 0, 1, time.Second); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wakes when the part is added", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for range 100 {
			wg.Go(func() {
				s, err := r.Wait(context.Background(), 0, 3, 10*time.Second)
				if err == nil && s.Part(0, 3) == nil {
					err = errors.New("snapshot lacks the part")
				}
				errs <- err
			})
		}
		r.AddPart([]byte("x"), time.Millisecond, false, 1)
		r.AddPart([]byte("y"), time.Millisecond, false, 1)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("complete segment", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := r.WaitComplete(context.Background(), 10*time.Second)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("WaitComplete returned %v before any segment completed", err)
		case <-time.After(50 * time.Millisecond):
		}
		r.StartSegment(time.Now()) // completes segment 0
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := r.Wait(ctx, 9, 0, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		if _, err := r.Wait(context.Background(), 9, 0, 20*time.Millisecond); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stream end", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := r.Wait(context.Background(), 9, 0, 10*time.Second)
			done <- err
		}()
		ch.Close()
		if err := <-done; !errors.Is(err, ErrEnded) {
			t.Fatalf("err = %v", err)
		}
		if !r.Snapshot().Ended {
			t.Error("snapshot not ended")
		}
	})
}

func TestStoreChannels(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	a := s.Open(arn, Low, FMP4)
	if _, err := a.AddRendition("x", RenditionInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddRendition("x", RenditionInfo{}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate rendition: %v", err)
	}
	b := s.Open(arn, Normal, TS) // replaces a
	if s.Channel(arn) != b || b.Epoch() == a.Epoch() {
		t.Fatal("reopen did not replace the channel with a new epoch")
	}
	if !a.Rendition("x").Snapshot().Ended {
		t.Error("replaced channel's rendition not ended")
	}
	if _, err := a.AddRendition("y", RenditionInfo{}); !errors.Is(err, ErrClosed) {
		t.Errorf("add to closed: %v", err)
	}
	a.Close() // must not remove b
	if s.Channel(arn) != b {
		t.Error("closing the old channel removed the new one")
	}
	b.Close()
	if s.Channel(arn) != nil || len(s.Channels()) != 0 {
		t.Error("closed channel still listed")
	}
}

func TestCachedRendersOnce(t *testing.T) {
	t.Parallel()
	_, _, r := newRendition(t, Options{})
	addSegment(r, 1)
	s := r.Snapshot()
	n := 0
	for range 3 {
		if got := string(s.Cached(0, func() []byte { n++; return []byte("x") })); got != "x" {
			t.Fatal(got)
		}
	}
	if n != 1 {
		t.Errorf("rendered %d times", n)
	}
}

func BenchmarkWaitWake(b *testing.B) {
	s := New(Options{})
	ch := s.Open(arn, Low, FMP4)
	defer ch.Close()
	r, _ := ch.AddRendition("src", RenditionInfo{})
	r.StartSegment(time.Now())
	data := make([]byte, 1000)
	for b.Loop() {
		n := len(r.Snapshot().Last().Parts)
		r.AddPart(data, time.Millisecond, false, 1)
		if _, err := r.Wait(context.Background(), 0, n, time.Second); err != nil {
			b.Fatal(err)
		}
		if n > 1000 {
			r.StartSegment(time.Now())
		}
	}
}

func TestAddFinalPartCompletesAtOnce(t *testing.T) {
	t.Parallel()
	var done []uint64
	_, _, r := newRendition(t, Options{OnSegment: func(e SegmentEvent) { done = append(done, e.Segment.MSN) }})
	r.StartSegment(time.Now())
	r.AddPart([]byte("a"), 300*time.Millisecond, true, 9)
	before := r.Snapshot()
	r.AddFinalPart([]byte("b"), 200*time.Millisecond, false, 6)
	s := r.Snapshot()
	if last := s.Last(); !last.Complete || len(last.Parts) != 2 || last.Duration != 500*time.Millisecond || s.MaxSegment != 500*time.Millisecond {
		t.Fatalf("after AddFinalPart: %+v", last)
	}
	select {
	case <-before.Changed():
	default:
		t.Error("readers of the previous snapshot were not woken")
	}
	if len(done) != 1 || done[0] != 0 {
		t.Errorf("OnSegment calls %v", done)
	}
	r.AddPart([]byte("c"), time.Millisecond, false, 1) // no open segment: ignored
	if countParts := len(r.Snapshot().Last().Parts); countParts != 2 {
		t.Error("part added to a complete segment")
	}
}
