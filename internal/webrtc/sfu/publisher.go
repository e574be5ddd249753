package sfu

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/stream"
)

// Timing of the publisher side.
const (
	// publishSettle bounds the wait for all of a publisher's m-lines to
	// carry media before it is announced as published.
	publishSettle = 2 * time.Second
	// pliInterval rate-limits key frame requests to one publisher layer.
	pliInterval = 300 * time.Millisecond
)

// publisher is a publishing session's media: one pubTrack per m-line.
type publisher struct {
	ss       *Session
	expected int // tracks (m-lines, or their simulcast layers) to expect

	mu      sync.RWMutex
	tracks  []*pubTrack
	arrived int // layers that delivered media
	ready   bool
	readyC  chan struct{}
	hub     *stream.Hub
	feeds   []*feed // per hub track, nil entries for tracks not fed

	subsMu sync.Mutex
	subs   map[*Session]struct{}
}

// pubTrack is one published m-line; with simulcast it has several layers.
type pubTrack struct {
	pub   *publisher
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecParameters
	// audioLevelID is the publisher's audio level extension id (0: none).
	audioLevelID uint8

	mu     sync.Mutex
	layers []*layer

	downs atomic.Pointer[[]*downTrack] // copy-on-write
	feed  atomic.Pointer[feed]
}

// layer is one encoding (rid) of a pubTrack.
type layer struct {
	rid    string
	ssrc   uint32
	remote *webrtc.TrackRemote
	index  int

	bytes   atomic.Uint64
	rate    atomic.Uint64 // bits/s over the last second
	lastPkt atomic.Int64  // unix nanos
	lastPLI atomic.Int64
}

func (p *publisher) isReady() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.ready
}

func (p *publisher) trackInfo() []TrackInfo {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]TrackInfo, 0, len(p.tracks))
	for _, t := range p.tracks {
		ti := TrackInfo{Kind: t.kind.String(), Codec: strings.ToLower(strings.TrimPrefix(t.codec.MimeType, t.kind.String()+"/"))}
		t.mu.Lock()
		if len(t.layers) > 1 || (len(t.layers) == 1 && t.layers[0].rid != "") {
			for _, l := range t.layers {
				ti.Layers = append(ti.Layers, l.rid)
			}
		}
		t.mu.Unlock()
		out = append(out, ti)
	}
	return out
}

// PublishWHIP starts a publishing WHIP session for id with the SDP offer and
// returns it with the SDP answer.
func (s *Server) PublishWHIP(ctx context.Context, id Identity, client Client, offer string) (*Session, string, error) {
	pc, err := s.eng.pub.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		_ = pc.Close()
		return nil, "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	expected := expectedTracks(pc, offer)
	if expected == 0 {
		_ = pc.Close()
		return nil, "", fmt.Errorf("%w: the offer sends no audio or video", ErrBadOffer)
	}
	var ss *Session
	var old *Session
	err = s.joinRoom(ctx, id, client, func(r *Room, p *Participant) error {
		if p.pub == nil && r.publishers() >= s.cfg.MaxPublishers {
			r.maybeLeave(p, "publish refused")
			return fmt.Errorf("%w: stage %s already has %d publishers", ErrPublisherCap, id.StageID, s.cfg.MaxPublishers)
		}
		if p.pub != nil {
			old = p.pub.ss
		}
		ss = s.newSession(p, Publishing, pc)
		ss.pub = &publisher{ss: ss, expected: expected, readyC: make(chan struct{}), subs: map[*Session]struct{}{}}
		p.pub = ss.pub
		return nil
	})
	if err != nil {
		_ = pc.Close()
		return nil, "", err
	}
	if old != nil {
		old.close("republished")
	}
	pub := ss.pub
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) { pub.addTrack(remote, recv) })
	ss.watchState()
	sdp, err := answer(ctx, pc, nil)
	if err != nil {
		ss.close("negotiation failed")
		return nil, "", err
	}
	s.goFn(pub.settle)
	return ss, sdp, nil
}

// addTrack runs in pion's OnTrack: one per m-line, or per rid.
func (p *publisher) addTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	s := p.ss.srv
	p.mu.Lock()
	var t *pubTrack
	for _, x := range p.tracks {
		if x.kind == remote.Kind() {
			t = x
		}
	}
	if t == nil {
		t = &pubTrack{pub: p, kind: remote.Kind(), codec: remote.Codec()}
		for _, e := range recv.GetParameters().HeaderExtensions {
			if e.URI == audioLevelURI {
				t.audioLevelID = uint8(e.ID)
			}
		}
		empty := []*downTrack{}
		t.downs.Store(&empty)
		p.tracks = append(p.tracks, t)
	}
	t.mu.Lock()
	l := &layer{rid: remote.RID(), ssrc: uint32(remote.SSRC()), remote: remote, index: len(t.layers)}
	l.lastPkt.Store(time.Now().UnixNano())
	t.layers = append(t.layers, l)
	t.mu.Unlock()
	p.arrived++
	all := p.arrived >= p.expected
	p.mu.Unlock()
	s.log.Debug("track published", "participant_id", p.ss.Participant.ID(), "kind", t.kind.String(),
		"codec", t.codec.MimeType, "rid", l.rid, "ssrc", l.ssrc)
	s.goFn(func() { p.readLoop(t, l) })
	if all {
		p.markReady()
	}
}

// settle announces the publisher once every m-line has media, or after
// publishSettle with whatever arrived.
func (p *publisher) settle() {
	t := time.NewTimer(publishSettle)
	defer t.Stop()
	select {
	case <-p.readyC:
		return
	case <-p.ss.done:
		return
	case <-t.C:
	}
	p.mu.RLock()
	n := len(p.tracks)
	p.mu.RUnlock()
	if n > 0 {
		p.markReady()
	}
}

func (p *publisher) markReady() {
	p.mu.Lock()
	if p.ready {
		p.mu.Unlock()
		return
	}
	p.ready = true
	close(p.readyC)
	p.mu.Unlock()
	part := p.ss.Participant
	r := part.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if part.pub != p {
		return
	}
	first := !r.everPub[part.id.ParticipantID]
	r.everPub[part.id.ParticipantID] = true
	info := part.info()
	r.broadcast(Event{Type: EventPublished, Participant: &info}, part)
	for s := range part.sinks {
		s.Send(Event{Type: EventUpdated, Participant: &info})
	}
	r.notify(RoomPublished, info)
	var rec = part.record("CONNECTED")
	if !first {
		rec = nil
	}
	r.srv.record(r, rec, event("PUBLISH_STARTED", part.id.ParticipantID))
	r.srv.stageUpdate(r, "Participant Published", part.id.ParticipantID, part.id.UserID, "")
	r.srv.log.Info("participant published", "stage_arn", r.arn, "participant_id", part.id.ParticipantID)
}

// readLoop forwards one layer's packets to the fan-out workers and, when
// a hub exists, to the depacketizer. It never blocks on a subscriber.
func (p *publisher) readLoop(t *pubTrack, l *layer) {
	var winStart = time.Now()
	var winBytes uint64
	srv := p.ss.srv
	r := srv.fan.newRound()
	for {
		pkt, _, err := l.remote.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		n := uint64(len(pkt.Payload) + 12)
		l.lastPkt.Store(now.UnixNano())
		winBytes += n
		if d := now.Sub(winStart); d >= time.Second {
			l.rate.Store(winBytes * 8 * uint64(time.Second) / uint64(d))
			winStart, winBytes = now, 0
		}
		key := -1 // unknown until someone asks
		for _, d := range *t.downs.Load() {
			d.forward(r, pkt, l, &key, now)
		}
		r.flush(srv)
		if f := t.feed.Load(); f != nil && f.layer(l) {
			f.push(pkt)
		}
	}
}

// requestKeyFrame sends a rate-limited PLI for one layer.
func (p *publisher) requestKeyFrame(l *layer) {
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(pliInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	if err := p.ss.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}}); err != nil {
		p.ss.srv.log.Debug("send pli", "error", err)
	}
}

// stop detaches everything from a closing publisher and returns the
// subscribe sessions to close.
func (p *publisher) stop() []*Session {
	p.mu.Lock()
	if p.hub != nil {
		p.hub.Close()
	}
	p.mu.Unlock()
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	out := make([]*Session, 0, len(p.subs))
	for s := range p.subs {
		out = append(out, s)
	}
	clear(p.subs)
	return out
}

// attach adds a subscriber's downtracks to the publisher's tracks.
func (p *publisher) attach(ss *Session, dts map[*pubTrack]*downTrack) error {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	select {
	case <-p.ss.done:
		return ErrNotPublishing
	default:
	}
	p.subs[ss] = struct{}{}
	for t, d := range dts {
		for {
			old := t.downs.Load()
			n := append(slices.Clip(*old), d)
			if t.downs.CompareAndSwap(old, &n) {
				break
			}
		}
	}
	return nil
}

// detach removes a subscriber's downtracks.
func (p *publisher) detach(ss *Session, dts map[*pubTrack]*downTrack) {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	delete(p.subs, ss)
	for t, d := range dts {
		for {
			old := t.downs.Load()
			n := slices.DeleteFunc(slices.Clone(*old), func(x *downTrack) bool { return x == d })
			if t.downs.CompareAndSwap(old, &n) {
				break
			}
		}
	}
}

// waitReady waits until the publisher is announced (or gone).
func (p *publisher) waitReady(ctx context.Context) error {
	select {
	case <-p.readyC:
		return nil
	case <-p.ss.done:
		return ErrNotPublishing
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publisherOf finds a participant's live publisher.
func (s *Server) publisherOf(stageARN, participantID string) (*publisher, error) {
	r := s.Room(stageARN)
	if r == nil {
		return nil, fmt.Errorf("participant %s: %w", participantID, ErrNotFound)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.participants[participantID]
	if p == nil {
		return nil, fmt.Errorf("participant %s: %w", participantID, ErrNotFound)
	}
	if p.pub == nil {
		return nil, fmt.Errorf("participant %s: %w", participantID, ErrNotPublishing)
	}
	return p.pub, nil
}

// isKeyFrame reports whether pkt starts a video key frame of codec.
func isKeyFrame(mime string, pkt *rtp.Packet) bool {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return vp8KeyFrame(pkt.Payload)
	case strings.ToLower(webrtc.MimeTypeH264):
		return h264KeyFrame(pkt.Payload)
	}
	return false
}

// expectedTracks counts the media the offer sends: one per receiving
// m-line, or one per "a=rid:<id> send" line of a simulcast m-line.
func expectedTracks(pc *webrtc.PeerConnection, offer string) int {
	n := 0
	recv := map[string]bool{}
	for _, t := range pc.GetTransceivers() {
		if t.Direction() == webrtc.RTPTransceiverDirectionRecvonly || t.Direction() == webrtc.RTPTransceiverDirectionSendrecv {
			recv[t.Mid()] = true
		}
	}
	// Parsed here: pion's RemoteDescription().Unmarshal caches into the
	// description its own goroutines read.
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(offer); err != nil {
		return len(recv)
	}
	for _, m := range parsed.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		if !recv[mid] {
			continue
		}
		rids := 0
		for _, a := range m.Attributes {
			if a.Key == "rid" && strings.Contains(a.Value, " send") {
				rids++
			}
		}
		n += max(rids, 1)
	}
	return n
}
