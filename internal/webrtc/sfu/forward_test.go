package sfu

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// newTestDownTrack builds a downtrack on a two-layer VP8 track with a
// bound writer, outside any peer connection, and a one-worker fan-out
// whose worker does not run: the test reads its queue.
func newTestDownTrack(t *testing.T, queue int) (*downTrack, *pubTrack, *subscriber) {
	t.Helper()
	srv := &Server{}
	srv.fan = newFanout(1, queue, &srv.lat, &srv.dropped)
	pub := &publisher{ss: &Session{srv: srv}}
	pt := &pubTrack{pub: pub, kind: webrtc.RTPCodecTypeVideo,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
	future := time.Now().Add(time.Hour).UnixNano()
	for i, rid := range []string{"q", "f"} {
		l := &layer{rid: rid, ssrc: uint32(100 + i), index: i}
		l.lastPLI.Store(future) // no peer connection to send PLIs on
		l.lastPkt.Store(time.Now().UnixNano())
		pt.layers = append(pt.layers, l)
	}
	sub := &subscriber{ss: &Session{srv: srv}}
	d := &downTrack{sub: sub, src: pt, current: -1, target: 0, ssrc: 555, pt: 96}
	var w webrtc.TrackLocalWriter = nopWriter{}
	d.writer.Store(&w)
	return d, pt, sub
}

type nopWriter struct{}

func (nopWriter) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (nopWriter) Write(b []byte) (int, error)               { return len(b), nil }

func vp8Pkt(seq uint16, ts uint32, key, start bool) *rtp.Packet {
	pl := []byte{0x00, 0x01, 0xaa}
	if start {
		pl[0] = 0x10
	}
	if key {
		pl[1] = 0x00
	}
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 1, PayloadType: 100}, Payload: pl}
}

func TestSimulcastSwitchWaitsForKeyFrameAndKeepsSequence(t *testing.T) {
	d, pt, sub := newTestDownTrack(t, 100)
	lo, hi := pt.layers[0], pt.layers[1]
	now := time.Now()
	r := sub.ss.srv.fan.newRound()
	fwd := func(p *rtp.Packet, l *layer) {
		key := -1
		d.forward(r, p, l, &key, now)
		r.flush(sub.ss.srv)
		now = now.Add(10 * time.Millisecond)
	}
	// Starts on the low layer only at its key frame.
	fwd(vp8Pkt(10, 1000, false, true), lo)
	fwd(vp8Pkt(11, 1000, true, true), lo)
	fwd(vp8Pkt(12, 1000, false, false), lo)
	fwd(vp8Pkt(500, 9000, true, true), hi) // not the target: ignored
	// Target the high layer: low keeps flowing until high's key frame.
	d.mu.Lock()
	d.target = 1
	d.mu.Unlock()
	fwd(vp8Pkt(13, 4000, false, true), lo)
	fwd(vp8Pkt(501, 12000, false, true), hi) // inter frame: no switch
	fwd(vp8Pkt(502, 15000, true, true), hi)  // key frame: switch
	fwd(vp8Pkt(14, 7000, false, true), lo)   // old layer: dropped now
	fwd(vp8Pkt(503, 15000, false, false), hi)
	q := sub.ss.srv.fan.workers[0]
	close(q)
	var pkts []outPacket
	for b := range q {
		pkts = append(pkts, b.pkts...)
	}
	var seqs []uint16
	var ssrcs []uint32
	var tss []uint32
	for _, p := range pkts {
		seqs = append(seqs, p.hdr.SequenceNumber)
		ssrcs = append(ssrcs, p.hdr.SSRC)
		tss = append(tss, p.hdr.Timestamp)
		if p.hdr.PayloadType != 96 {
			t.Fatalf("payload type %d", p.hdr.PayloadType)
		}
	}
	want := []uint16{11, 12, 13, 14, 15}
	if len(seqs) != len(want) {
		t.Fatalf("forwarded seqs %v, want %v", seqs, want)
	}
	for i := range want {
		if seqs[i] != want[i] || ssrcs[i] != 555 {
			t.Fatalf("forwarded seqs %v ssrcs %v, want %v on 555", seqs, ssrcs, want)
		}
	}
	if tss[3] <= tss[2] || tss[3] != tss[4] {
		t.Fatalf("timestamps across the switch: %v", tss)
	}
}

func TestFullSubscriberQueueDropsWithoutBlocking(t *testing.T) {
	d, pt, sub := newTestDownTrack(t, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := sub.ss.srv.fan.newRound()
		for i := range 1000 {
			key := -1
			d.forward(r, vp8Pkt(uint16(i), uint32(i), i == 0, true), pt.layers[0], &key, time.Now())
			r.flush(sub.ss.srv)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("forward blocked on a full subscriber queue")
	}
	if got := sub.dropped.Load(); got != 996 {
		t.Fatalf("dropped %d, want 996", got)
	}
	if got := sub.ss.srv.dropped.Load(); got != 996 {
		t.Fatalf("server dropped %d", got)
	}
}

func TestBestLayerFitsBudget(t *testing.T) {
	_, pt, _ := newTestDownTrack(t, 1)
	pt.layers[0].rate.Store(300_000)
	pt.layers[1].rate.Store(2_500_000)
	if got := pt.bestLayer(0); got != 1 {
		t.Fatalf("no budget: layer %d", got)
	}
	if got := pt.bestLayer(1_000_000); got != 0 {
		t.Fatalf("1 Mbps: layer %d", got)
	}
	if got := pt.bestLayer(100_000); got != 0 {
		t.Fatalf("below every layer: layer %d, want the lowest", got)
	}
	pt.layers[1].lastPkt.Store(time.Now().Add(-time.Minute).UnixNano())
	if got := pt.bestLayer(0); got != 0 {
		t.Fatalf("idle high layer chosen")
	}
}

// recordingWriter keeps the sequence numbers written to it.
type recordingWriter struct {
	mu   sync.Mutex
	seqs []uint16
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, _ []byte) (int, error) {
	w.mu.Lock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	w.mu.Unlock()
	return 0, nil
}
func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestFanoutKeepsEachSubscribersOrder runs two workers over five
// subscribers: every subscriber gets every packet, in order, and the
// latency histogram counts each write.
func TestFanoutKeepsEachSubscribersOrder(t *testing.T) {
	srv := &Server{}
	srv.fan = newFanout(2, 1024, &srv.lat, &srv.dropped) // room for every batch: no drops
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range srv.fan.workers {
		wg.Go(func() { srv.fan.run(ctx, i) })
	}
	defer func() { cancel(); wg.Wait() }()

	pub := &publisher{ss: &Session{srv: srv}}
	pt := &pubTrack{pub: pub, kind: webrtc.RTPCodecTypeAudio,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}}
	l := &layer{index: 0}
	pt.layers = []*layer{l}
	var downs []*downTrack
	var writers []*recordingWriter
	for range 5 {
		sub := &subscriber{ss: &Session{srv: srv}}
		d := &downTrack{sub: sub, src: pt, current: -1, target: 0, worker: srv.fan.pin()}
		rw := &recordingWriter{}
		var w webrtc.TrackLocalWriter = rw
		d.writer.Store(&w)
		downs, writers = append(downs, d), append(writers, rw)
	}
	if downs[0].worker == downs[1].worker {
		t.Fatal("consecutive downtracks pinned to the same worker")
	}
	const packets = 500
	r := srv.fan.newRound()
	for i := range packets {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(1000 + i)}, Payload: []byte{1}}
		key := -1
		for _, d := range downs {
			d.forward(r, pkt, l, &key, time.Now())
		}
		r.flush(srv)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.lat.summary().Count < 5*packets && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.lat.summary().Count; n != 5*packets || srv.dropped.Load() != 0 {
		t.Fatalf("%d writes timed, %d dropped; want %d, 0", n, srv.dropped.Load(), 5*packets)
	}
	for i, w := range writers {
		w.mu.Lock()
		if len(w.seqs) != packets {
			t.Fatalf("subscriber %d got %d packets", i, len(w.seqs))
		}
		for j, s := range w.seqs {
			if s != uint16(1000+j) {
				t.Fatalf("subscriber %d: packet %d has seq %d, want %d", i, j, s, 1000+j)
			}
		}
		w.mu.Unlock()
	}
}

// TestFanoutDropsPacketsTooLateToSend: a packet read more than
// maxForwardDelay ago is counted as dropped, not sent.
func TestFanoutDropsPacketsTooLateToSend(t *testing.T) {
	srv := &Server{}
	srv.fan = newFanout(1, 16, &srv.lat, &srv.dropped)
	pt := &pubTrack{pub: &publisher{ss: &Session{srv: srv}}, kind: webrtc.RTPCodecTypeAudio,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}}
	l := &layer{}
	pt.layers = []*layer{l}
	sub := &subscriber{ss: &Session{srv: srv}}
	d := &downTrack{sub: sub, src: pt, current: -1, target: 0}
	rw := &recordingWriter{}
	var w webrtc.TrackLocalWriter = rw
	d.writer.Store(&w)

	r := srv.fan.newRound()
	key := -1
	d.forward(r, &rtp.Packet{Header: rtp.Header{SequenceNumber: 1}, Payload: []byte{1}}, l, &key, time.Now().Add(-time.Second))
	r.flush(srv)
	d.forward(r, &rtp.Packet{Header: rtp.Header{SequenceNumber: 2}, Payload: []byte{1}}, l, &key, time.Now())
	r.flush(srv)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.fan.run(ctx, 0) }()
	deadline := time.Now().Add(5 * time.Second)
	for srv.lat.summary().Count == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.seqs) != 1 || rw.seqs[0] != 2 || srv.dropped.Load() != 1 || sub.dropped.Load() != 1 {
		t.Fatalf("sent %v, dropped %d (subscriber %d): want [2] sent and the stale packet dropped", rw.seqs, srv.dropped.Load(), sub.dropped.Load())
	}
}

func TestLatencyHistogramBuckets(t *testing.T) {
	srv := &Server{}
	for _, d := range []time.Duration{-time.Microsecond, 95 * time.Microsecond, 150 * time.Microsecond,
		1900 * time.Microsecond, 25 * time.Millisecond, 60 * time.Millisecond, 2 * time.Second} {
		srv.lat.add(d)
	}
	b, sum := srv.ForwardLatencyHistogram()
	le := func(bound time.Duration) uint64 {
		for i, x := range LatencyBounds {
			if x == bound {
				return b[i]
			}
		}
		t.Fatalf("no bound %v", bound)
		return 0
	}
	if le(100*time.Microsecond) != 2 || le(200*time.Microsecond) != 3 || le(2*time.Millisecond) != 4 ||
		le(20*time.Millisecond) != 4 || le(30*time.Millisecond) != 5 || le(100*time.Millisecond) != 6 ||
		le(500*time.Millisecond) != 6 || b[len(b)-1] != 7 {
		t.Fatalf("cumulative buckets %v", b)
	}
	if sum < 2*time.Second {
		t.Fatalf("sum %v", sum)
	}
	l := srv.ForwardLatency()
	if l.Count != 7 || l.P50 != 1910*time.Microsecond || l.Max != time.Hour { // the 4th of 7, in [1.90, 1.91) ms
		t.Fatalf("summary %+v", l)
	}
	srv.ResetForwardLatency()
	if l := srv.ForwardLatency(); l.Count != 0 {
		t.Fatalf("after reset %+v", l)
	}
	if b2, _ := srv.ForwardLatencyHistogram(); b2[len(b2)-1] != 7 {
		t.Fatal("reset touched the exported counts")
	}
}
