package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Options describe one stage benchmark run.
type Options struct {
	// Base is the media listener URL; StageID the stage; Mint returns a
	// participant token and id for a new participant.
	Base    string
	StageID string
	Mint    func(ctx context.Context, userID string) (token, participantID string, err error)

	// Publishers send synthetic video; each of Subscribers viewers
	// subscribes to every publisher (Publishers x Subscribers sessions).
	Publishers, Subscribers int
	// Bitrate per publisher in bits/s, FPS frames per second.
	Bitrate, FPS int
	// Pacing spreads each frame's packets at Pacing times Bitrate, the way
	// a WebRTC sender's pacer does (libwebrtc paces at 2.5x the target
	// rate). Zero or negative sends every frame as one back-to-back burst,
	// the worst case for a forwarder's queueing.
	Pacing float64
	// Warmup runs before measuring; Duration is measured.
	Warmup, Duration time.Duration
	// ServerCPU, when set, returns the server's CPU time so far (another
	// process); otherwise CPU is the whole process's (server + load).
	ServerCPU func() (time.Duration, error)
	// Progress receives human-readable progress lines (may be nil).
	Progress func(format string, args ...any)
}

// Result is what the subscribers measured.
type Result struct {
	Publishers, Subscribers int
	Sessions                int // subscribe sessions
	DurationSeconds         float64
	SentPackets             uint64
	ExpectedPackets         uint64 // at all subscribers
	ReceivedPackets         uint64
	LossPercent             float64
	// DeliveredPercent is packets received over packets sent times the
	// viewers, in the same window: below ~99% the subscribers (or the
	// machine) are not keeping up, even when nothing is lost yet.
	DeliveredPercent  float64
	ReceivedMbps      float64 // sum over subscribers
	PerSubscriberMbps float64
	// End-to-end latency (publisher's WriteRTP to subscriber's ReadRTP,
	// both in this process): client SRTP and sockets on both sides plus
	// the server.
	E2EP50Ms, E2EP99Ms float64
	// CPUSeconds is CPU time used during the measurement: the server's if
	// ServerCPU was given (CPUScope "server"), else the whole process
	// (CPUScope "process": server and load generator together).
	CPUSeconds float64
	CPUScope   string
	// MbpsPerCore is ReceivedMbps per core-second of CPUSeconds.
	MbpsPerCore float64
}

// payload layout of the synthetic VP8-like packets: [0] VP8 descriptor,
// [1] VP8 header byte (key frame bit) in first packets, [2:10] send time,
// [10:14] frame number.
const (
	tsOffset    = 2
	minPayload  = 14
	payloadSize = 1100
)

type subStats struct {
	mu       sync.Mutex
	measure  bool
	seen     [1024]uint64 // seq bitmap for the window
	received uint64
	first    int64 // first unwrapped seq in window, -1 before
	last     int64
	unwrap   int64
	prev     uint16
	started  bool
	bytes    uint64
	lat      []time.Duration
}

func (s *subStats) onPacket(p *rtp.Packet, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started, s.prev, s.unwrap = true, p.SequenceNumber, int64(p.SequenceNumber)
	} else {
		s.unwrap += int64(int16(p.SequenceNumber - s.prev))
		if int16(p.SequenceNumber-s.prev) > 0 {
			s.prev = p.SequenceNumber
		}
	}
	if !s.measure || len(p.Payload) < minPayload {
		return
	}
	seq := s.unwrap
	if s.first < 0 {
		s.first = seq
	}
	if seq < s.first {
		return
	}
	if seq > s.last {
		s.last = seq
	}
	bit := uint64(1) << (uint(seq) & 63)
	w := &s.seen[(uint(seq)>>6)&1023]
	if *w&bit == 0 {
		*w |= bit
		s.received++
	}
	s.bytes += uint64(len(p.Payload) + 12)
	sent := int64(binary.BigEndian.Uint64(p.Payload[tsOffset:]))
	s.lat = append(s.lat, now.Sub(time.Unix(0, sent)))
}

// Run publishes synthetic video and measures the subscribers.
func Run(ctx context.Context, o Options) (Result, error) {
	res := Result{Publishers: o.Publishers, Subscribers: o.Subscribers, Sessions: o.Publishers * o.Subscribers}
	if o.FPS <= 0 {
		o.FPS = 30
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var peers []*Peer
	var peersMu sync.Mutex
	defer func() {
		cancel()
		wg.Wait()
		for _, p := range peers {
			closeCtx, c := context.WithTimeout(context.Background(), 2*time.Second)
			_ = p.Close(closeCtx)
			c()
		}
	}()

	type pubInfo struct {
		id    string
		track *webrtc.TrackLocalStaticRTP
	}
	var pubs []pubInfo
	var sent atomic.Uint64
	for i := range o.Publishers {
		tok, pid, err := o.Mint(ctx, fmt.Sprintf("publisher-%d", i))
		if err != nil {
			return res, err
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", pid)
		if err != nil {
			return res, err
		}
		c := &Client{Base: o.Base, Token: tok}
		p, err := c.Publish(ctx, tr)
		if err != nil {
			return res, fmt.Errorf("publisher %d: %w", i, err)
		}
		peers = append(peers, p)
		if err := p.WaitConnected(ctx); err != nil {
			return res, err
		}
		pubs = append(pubs, pubInfo{pid, tr})
		wg.Go(func() { sendSynthetic(runCtx, tr, o.Bitrate, o.FPS, o.Pacing, &sent, p.KeyFrameRequests) })
	}
	progress("%d publishers sending %.1f Mbps each", o.Publishers, float64(o.Bitrate)/1e6)

	stats := make([]*subStats, 0, o.Publishers*o.Subscribers)
	var statsMu sync.Mutex
	sem := make(chan struct{}, 8) // concurrent negotiations
	var setupErr error
	var errOnce sync.Once
	var setup sync.WaitGroup
	for v := range o.Subscribers {
		tok, _, err := o.Mint(ctx, fmt.Sprintf("viewer-%d", v))
		if err != nil {
			return res, err
		}
		for _, pub := range pubs {
			setup.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				st := &subStats{first: -1}
				c := &Client{Base: o.Base, Token: tok}
				p, err := c.Subscribe(ctx, pub.id, func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
					for {
						pkt, _, err := tr.ReadRTP()
						if err != nil {
							return
						}
						if tr.Kind() == webrtc.RTPCodecTypeVideo {
							st.onPacket(pkt, time.Now())
						}
					}
				})
				if err != nil {
					errOnce.Do(func() { setupErr = fmt.Errorf("subscriber %d: %w", v, err) })
					return
				}
				peersMu.Lock()
				peers = append(peers, p)
				peersMu.Unlock()
				statsMu.Lock()
				stats = append(stats, st)
				statsMu.Unlock()
			})
		}
	}
	setup.Wait()
	if setupErr != nil {
		return res, setupErr
	}
	progress("%d subscribe sessions up; warming up %s", len(stats), o.Warmup)
	select {
	case <-time.After(o.Warmup):
	case <-ctx.Done():
		return res, ctx.Err()
	}

	cpu0, err := cpuTime(o.ServerCPU)
	if err != nil {
		return res, err
	}
	for _, s := range stats {
		s.mu.Lock()
		s.measure = true
		s.mu.Unlock()
	}
	sent0 := sent.Load()
	start := time.Now()
	progress("measuring for %s", o.Duration)
	select {
	case <-time.After(o.Duration):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	for _, s := range stats {
		s.mu.Lock()
		s.measure = false
		s.mu.Unlock()
	}
	elapsed := time.Since(start)
	cpu1, err := cpuTime(o.ServerCPU)
	if err != nil {
		return res, err
	}
	res.DurationSeconds = elapsed.Seconds()
	res.SentPackets = sent.Load() - sent0
	var bytes uint64
	var lats []time.Duration
	for _, s := range stats {
		s.mu.Lock()
		if s.first >= 0 {
			res.ExpectedPackets += uint64(s.last - s.first + 1)
		}
		res.ReceivedPackets += s.received
		bytes += s.bytes
		lats = append(lats, s.lat...)
		s.mu.Unlock()
	}
	// Subscribers that got nothing expected what the publishers sent.
	for _, s := range stats {
		if s.first < 0 {
			res.ExpectedPackets += res.SentPackets / uint64(max(o.Publishers, 1))
		}
	}
	if res.ExpectedPackets > 0 {
		res.LossPercent = 100 * (1 - float64(res.ReceivedPackets)/float64(res.ExpectedPackets))
	}
	if want := res.SentPackets * uint64(o.Subscribers); want > 0 {
		res.DeliveredPercent = 100 * float64(res.ReceivedPackets) / float64(want)
	}
	res.ReceivedMbps = float64(bytes) * 8 / elapsed.Seconds() / 1e6
	if len(stats) > 0 {
		res.PerSubscriberMbps = res.ReceivedMbps / float64(len(stats))
	}
	slices.Sort(lats)
	if len(lats) > 0 {
		res.E2EP50Ms = float64(lats[len(lats)/2]) / 1e6
		res.E2EP99Ms = float64(lats[len(lats)*99/100]) / 1e6
	}
	res.CPUSeconds = (cpu1 - cpu0).Seconds()
	res.CPUScope = "process"
	if o.ServerCPU != nil {
		res.CPUScope = "server"
	}
	if res.CPUSeconds > 0 {
		res.MbpsPerCore = res.ReceivedMbps / (res.CPUSeconds / elapsed.Seconds())
	}
	return res, nil
}

func cpuTime(server func() (time.Duration, error)) (time.Duration, error) {
	if server != nil {
		return server()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// sendSynthetic sends VP8-shaped RTP at bitrate: fps frames per second,
// a key frame every 2 s and on PLI/FIR, packets of payloadSize bytes, random content
// (not decodable) with the send time embedded. With pacing > 0 a frame's
// packets leave at pacing x bitrate instead of back to back.
func sendSynthetic(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, bitrate, fps int, pacing float64, sent *atomic.Uint64, plis func() uint64) {
	frameBytes := max(bitrate/8/fps, minPayload)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	noise := make([]byte, 64<<10)
	_, _ = rand.Read(noise)
	var seq uint16
	var ts uint32
	var answered uint64
	var lastKey time.Time
	for frame := 0; ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := frame%(2*fps) == 0
		// Answer key frame requests like an encoder, at most 3 per second.
		if n := plis(); n != answered && time.Since(lastKey) > 300*time.Millisecond {
			answered, key = n, true
		}
		if key {
			lastKey = time.Now()
		}
		size := frameBytes
		if key {
			size = frameBytes * 3 / 2
		}
		frameStart := time.Now()
		for off := 0; off < size; off += payloadSize {
			if pacing > 0 && off > 0 {
				due := frameStart.Add(time.Duration(float64(off*8) / (pacing * float64(bitrate)) * float64(time.Second)))
				if wait := time.Until(due); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
			}
			n := min(payloadSize, size-off)
			n = max(n, minPayload)
			pl := make([]byte, n)
			copy(pl, noise[(frame*7919+off)%(len(noise)-payloadSize):])
			pl[0] = 0x00
			if off == 0 {
				pl[0] = 0x10 // S=1, partition 0
				pl[1] = 0x01 // inter frame
				if key {
					pl[1] = 0x00
				}
			}
			binary.BigEndian.PutUint32(pl[10:], uint32(frame))
			binary.BigEndian.PutUint64(pl[tsOffset:], uint64(time.Now().UnixNano()))
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts,
				Marker: off+payloadSize >= size}, Payload: pl}
			seq++
			if err := tr.WriteRTP(pkt); err != nil && !errors.Is(err, context.Canceled) {
				continue
			}
			sent.Add(1)
		}
		ts += uint32(90000 / fps)
	}
}
