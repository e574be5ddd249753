package sfu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/model"
)

// SessionKind says what a WHIP session does.
type SessionKind int

// Session kinds.
const (
	Publishing SessionKind = iota + 1
	Subscribing
)

// Session is one WHIP resource: a peer connection publishing the
// participant's media or subscribing to another participant's.
type Session struct {
	ID          string
	Kind        SessionKind
	Participant *Participant
	// Target is the participant subscribed to (Subscribing only).
	Target string

	srv  *Server
	pc   *webrtc.PeerConnection
	pub  *publisher  // Publishing
	sub  *subscriber // Subscribing
	once sync.Once
	done chan struct{}
}

// Done is closed when the session ended.
func (ss *Session) Done() <-chan struct{} { return ss.done }

// Close ends the session (WHIP DELETE).
func (ss *Session) Close() { ss.close("left") }

// AddCandidates applies a trickle-ICE SDP fragment (WHIP PATCH).
func (ss *Session) AddCandidates(frag string) error {
	var mid string
	for line := range strings.Lines(frag) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			m := mid
			if err := ss.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: strings.TrimPrefix(line, "a="), SDPMid: &m}); err != nil {
				return fmt.Errorf("%w: candidate: %w", ErrBadOffer, err)
			}
		}
	}
	return nil
}

// close tears the session down once; it never blocks on the network for
// long (pion's Close is bounded) and runs the room bookkeeping.
func (ss *Session) close(reason string) {
	ss.once.Do(func() {
		p := ss.Participant
		r := p.room
		if ss.sub != nil {
			ss.sub.stop()
			ss.srv.subscribers.Add(-1)
		}
		if err := ss.pc.Close(); err != nil {
			ss.srv.log.Debug("close peer connection", "error", err)
		}
		r.mu.Lock()
		delete(p.sessions, ss.ID)
		var subs []*Session
		if ss.pub != nil {
			// A replaced publisher (the participant published again) ends
			// its subscriptions too, but the participant stays published.
			subs = ss.pub.stop()
		}
		if ss.pub != nil && p.pub == ss.pub {
			wasReady := ss.pub.isReady()
			p.pub = nil
			if wasReady {
				info := p.info()
				info.Published = false
				r.broadcast(Event{Type: EventUnpublished, Participant: &info}, p)
				r.notify(RoomUnpublished, info)
				r.srv.record(r, nil, event("PUBLISH_STOPPED", p.id.ParticipantID))
				r.srv.stageUpdate(r, "Participant Unpublished", p.id.ParticipantID, p.id.UserID, "")
			}
		}
		if ss.sub != nil {
			ev := event("SUBSCRIBE_STOPPED", p.id.ParticipantID)
			ev.RemoteParticipantId = &ss.Target
			r.srv.record(r, nil, ev)
		}
		r.maybeLeave(p, reason)
		r.mu.Unlock()
		close(ss.done)
		for _, s := range subs {
			s.close("publisher left")
		}
	})
}

// watchState closes the session when ICE/DTLS fails, the peer closes, or
// the connection never comes up within ConnectTimeout.
func (ss *Session) watchState() {
	connected := make(chan struct{})
	var once sync.Once
	ss.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			// Not from pion's callback goroutine: close waits for pion.
			ss.srv.goFn(func() { ss.close("connection lost") })
		}
	})
	ss.srv.goFn(func() {
		t := time.NewTimer(ss.srv.cfg.ConnectTimeout)
		defer t.Stop()
		select {
		case <-connected:
		case <-ss.done:
		case <-t.C:
			ss.srv.log.Info("webrtc connection did not come up, closing", "participant_id", ss.Participant.ID())
			ss.close("connection timeout")
		case <-ss.srv.ctx.Done():
		}
	})
}

// answer applies the offer and returns the complete (non-trickle) answer.
func answer(ctx context.Context, pc *webrtc.PeerConnection, before func() error) (string, error) {
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if before != nil {
		if err := before(); err != nil {
			return "", err
		}
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(5 * time.Second):
		return "", errors.New("ice gathering timed out")
	}
	return pc.LocalDescription().SDP, nil
}

// newSession registers a session on p (room.mu held).
func (s *Server) newSession(p *Participant, kind SessionKind, pc *webrtc.PeerConnection) *Session {
	ss := &Session{ID: model.RandomID(16), Kind: kind, Participant: p, srv: s, pc: pc, done: make(chan struct{})}
	p.sessions[ss.ID] = ss
	return ss
}

// Lookup finds a WHIP session of a participant.
func (s *Server) Lookup(stageARN, participantID, sessionID string) (*Session, error) {
	r := s.Room(stageARN)
	if r == nil {
		return nil, ErrNotFound
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.participants[participantID]
	if p == nil || p.sessions[sessionID] == nil {
		return nil, ErrNotFound
	}
	return p.sessions[sessionID], nil
}

// joinRoom joins id (creating the room) and runs f under the room lock.
func (s *Server) joinRoom(ctx context.Context, id Identity, client Client, f func(r *Room, p *Participant) error) error {
	for {
		r, err := s.room(ctx, id, true)
		if err != nil {
			return err
		}
		r.mu.Lock()
		if r.ended {
			r.mu.Unlock()
			continue
		}
		p := r.join(id, client)
		err = f(r, p)
		r.mu.Unlock()
		return err
	}
}
