package sfu

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Subscriber tuning.
const (
	// layerEvalEvery is how often a simulcast subscriber's layer is
	// reconsidered against its bandwidth estimate.
	layerEvalEvery = 500 * time.Millisecond
	// layerIdle: a layer with no packet for this long is not chosen.
	layerIdle = 2 * time.Second
)

// subscriber is a subscribing session's media.
type subscriber struct {
	ss   *Session
	pub  *publisher
	dts  map[*pubTrack]*downTrack
	bwe  cc.BandwidthEstimator
	once sync.Once

	dropped atomic.Uint64
}

// SubscribeWHIP starts a subscribing WHIP session of id to target's published
// tracks with the (recvonly) SDP offer and returns it with the answer.
func (s *Server) SubscribeWHIP(ctx context.Context, id Identity, client Client, target, offer string) (*Session, string, error) {
	pub, err := s.publisherOf(id.StageARN, target)
	if err != nil {
		return nil, "", err
	}
	wctx, cancel := context.WithTimeout(ctx, publishSettle+time.Second)
	err = pub.waitReady(wctx)
	cancel()
	if err != nil {
		return nil, "", fmt.Errorf("participant %s: %w", target, ErrNotPublishing)
	}
	if n := s.subscribers.Add(1); n > int64(s.cfg.MaxSubscribers) {
		s.subscribers.Add(-1)
		return nil, "", fmt.Errorf("%w: this server already serves %d subscriptions", ErrSubscriberCap, s.cfg.MaxSubscribers)
	}
	pub.mu.RLock()
	tracks := append([]*pubTrack(nil), pub.tracks...)
	pub.mu.RUnlock()
	simulcast := false
	for _, t := range tracks {
		t.mu.Lock()
		simulcast = simulcast || len(t.layers) > 1
		t.mu.Unlock()
	}
	pc, bwe, err := s.eng.newSubscriberPC(simulcast)
	if err != nil {
		s.subscribers.Add(-1)
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	fail := func(err error) (*Session, string, error) {
		_ = pc.Close()
		s.subscribers.Add(-1)
		return nil, "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrBadOffer, err))
	}
	sub := &subscriber{pub: pub, dts: map[*pubTrack]*downTrack{}, bwe: bwe}
	var senders []*webrtc.RTPSender
	for _, t := range tracks {
		d := &downTrack{sub: sub, src: t, id: t.kind.String(), streamID: target, current: -1, target: -1, worker: s.fan.pin()}
		if len(t.layers) > 0 {
			d.target = t.bestLayer(0)
		}
		snd, err := pc.AddTrack(d)
		if err != nil {
			return fail(fmt.Errorf("%w: add %s track: %w", ErrBadOffer, t.kind, err))
		}
		sub.dts[t] = d
		senders = append(senders, snd)
	}
	var ss *Session
	err = s.joinRoom(ctx, id, client, func(r *Room, p *Participant) error {
		ss = s.newSession(p, Subscribing, pc)
		ss.Target, ss.sub, sub.ss = target, sub, ss
		ev := event("SUBSCRIBE_STARTED", id.ParticipantID)
		ev.RemoteParticipantId = &target
		r.srv.record(r, nil, ev)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := pub.attach(ss, sub.dts); err != nil {
		ss.close("publisher left")
		return nil, "", fmt.Errorf("participant %s: %w", target, err)
	}
	ss.watchState()
	for _, snd := range senders {
		s.goFn(func() { sub.rtcpLoop(snd) })
	}
	sdp, err := answer(ctx, pc, nil)
	if err != nil {
		ss.close("negotiation failed")
		return nil, "", err
	}
	return ss, sdp, nil
}

// stop detaches from the publisher and ends the writer (Session.close).
func (sub *subscriber) stop() {
	sub.once.Do(func() {
		sub.pub.detach(sub.ss, sub.dts)
		// The estimator belongs to the peer connection's interceptor
		// chain, which closes it with the connection; closing it here too
		// panics in pion's gcc (close of a closed channel).
	})
}

// rtcpLoop reads a sender's RTCP (which also drives the NACK responder,
// sender reports and the estimator) and relays PLI/FIR to the publisher;
// for simulcast video it re-picks the layer from the bandwidth estimate.
func (sub *subscriber) rtcpLoop(snd *webrtc.RTPSender) {
	var d *downTrack
	if tr, ok := snd.Track().(*downTrack); ok {
		d = tr
	}
	lastEval := time.Now()
	for {
		pkts, _, err := snd.ReadRTCP()
		if err != nil {
			return
		}
		if d == nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.keyFrameWanted()
			}
		}
		if sub.bwe != nil && d.src.kind == webrtc.RTPCodecTypeVideo && time.Since(lastEval) >= layerEvalEvery {
			lastEval = time.Now()
			d.retarget(sub.bwe.GetTargetBitrate())
		}
	}
}

// bestLayer returns the index of the highest-bitrate live layer whose rate
// fits budget bits/s (0: no budget, the highest), or the lowest live one.
func (t *pubTrack) bestLayer(budget int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now().UnixNano()
	best, bestRate, low, lowRate := -1, uint64(0), -1, ^uint64(0)
	for _, l := range t.layers {
		if now-l.lastPkt.Load() > int64(layerIdle) {
			continue
		}
		r := l.rate.Load()
		if r < lowRate {
			low, lowRate = l.index, r
		}
		if (budget <= 0 || r <= uint64(budget)) && (best < 0 || r > bestRate) {
			best, bestRate = l.index, r
		}
	}
	if best < 0 {
		best = low
	}
	if best < 0 && len(t.layers) > 0 {
		best = 0
	}
	return best
}

func (t *pubTrack) layerAt(i int) *layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= len(t.layers) {
		return nil
	}
	return t.layers[i]
}

// downTrack is one publisher track as sent to one subscriber: a
// webrtc.TrackLocal that rewrites SSRC, payload type, audio level
// extension id and, across simulcast switches, sequence numbers and
// timestamps.
type downTrack struct {
	sub      *subscriber
	src      *pubTrack
	id       string
	streamID string

	writer       atomic.Pointer[webrtc.TrackLocalWriter]
	worker       int // the fan-out worker this downtrack's packets leave on
	ssrc         uint32
	pt           uint8
	audioLevelID uint8

	mu                sync.Mutex // forwarding state; layers' loops share it
	current, target   int
	seqOff            uint16
	tsOff             uint32
	lastSeq           uint16
	lastTS            uint32
	lastArrival       time.Time
	started, switched bool
}

// Bind implements webrtc.TrackLocal: it picks the subscriber's payload
// type for the publisher's codec.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	want := d.src.codec
	var match *webrtc.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			match = &c
			break
		}
		if match == nil {
			match = &c
		}
	}
	if match == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.ssrc, d.pt = uint32(ctx.SSRC()), uint8(match.PayloadType)
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == audioLevelURI {
			d.audioLevelID = uint8(e.ID)
		}
	}
	w := ctx.WriteStream()
	d.writer.Store(&w)
	return *match, nil
}

// Unbind implements webrtc.TrackLocal.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.writer.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (d *downTrack) ID() string { return d.id }

// RID implements webrtc.TrackLocal.
func (d *downTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal.
func (d *downTrack) StreamID() string { return d.streamID }

// Kind implements webrtc.TrackLocal.
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.src.kind }

// forward adds pkt (from layer l) to the round for the subscriber if it
// belongs to the layer being sent, switching layers at key frames. key
// caches the key-frame test across subscribers (-1 unknown).
func (d *downTrack) forward(r *round, pkt *rtp.Packet, l *layer, key *int, now time.Time) {
	if d.writer.Load() == nil {
		return
	}
	d.mu.Lock()
	if l.index != d.current {
		if l.index != d.target {
			d.mu.Unlock()
			return
		}
		if *key < 0 {
			*key = 0
			if d.src.kind == webrtc.RTPCodecTypeAudio || isKeyFrame(d.src.codec.MimeType, pkt) {
				*key = 1
			}
		}
		if *key == 0 {
			d.mu.Unlock()
			d.src.pub.requestKeyFrame(l)
			return
		}
		// Switch: continue the outgoing sequence and timestamps.
		if d.started {
			d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
			gap := uint32(now.Sub(d.lastArrival) * time.Duration(d.src.codec.ClockRate) / time.Second)
			d.tsOff = d.lastTS + max(gap, 1) - pkt.Timestamp
		}
		d.current, d.started = l.index, true
	}
	if len(pkt.Payload) == 0 && d.switched {
		d.seqOff-- // padding-only packet of a rewritten stream: skip it
		d.mu.Unlock()
		return
	}
	hdr := pkt.Header
	hdr.SequenceNumber += d.seqOff
	hdr.Timestamp += d.tsOff
	if d.seqOff != 0 || d.tsOff != 0 {
		d.switched = true
	}
	d.lastSeq, d.lastTS, d.lastArrival = hdr.SequenceNumber, hdr.Timestamp, now
	d.mu.Unlock()

	hdr.SSRC, hdr.PayloadType = d.ssrc, d.pt
	hdr.Extension, hdr.Extensions, hdr.ExtensionProfile = false, nil, 0
	hdr.Padding, hdr.PaddingSize = false, 0
	if d.audioLevelID != 0 && d.src.audioLevelID != 0 {
		if v := pkt.Header.GetExtension(d.src.audioLevelID); v != nil {
			_ = hdr.SetExtension(d.audioLevelID, v)
		}
	}
	r.add(outPacket{d: d, hdr: hdr, pl: pkt.Payload, at: now})
}

// keyFrameWanted relays a subscriber's PLI/FIR to the layer it receives.
func (d *downTrack) keyFrameWanted() {
	d.mu.Lock()
	i := d.current
	if i < 0 {
		i = d.target
	}
	d.mu.Unlock()
	if l := d.src.layerAt(i); l != nil {
		d.src.pub.requestKeyFrame(l)
	}
}

// retarget picks the layer fitting the estimate (bits/s) for the video.
func (d *downTrack) retarget(bitrate int) {
	budget := bitrate - 64_000 // leave room for audio
	i := d.src.bestLayer(max(budget, 1))
	d.mu.Lock()
	changed := i >= 0 && i != d.target
	if changed {
		d.target = i
	}
	d.mu.Unlock()
	if changed {
		if l := d.src.layerAt(i); l != nil {
			d.src.pub.requestKeyFrame(l)
		}
	}
}

// SubscriberDrops returns how many packets a subscribe session dropped: to
// a full writer queue, or too late to send.
func (ss *Session) SubscriberDrops() uint64 {
	if ss.sub == nil {
		return 0
	}
	return ss.sub.dropped.Load()
}
