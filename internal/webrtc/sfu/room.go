package sfu

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"sync"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Room is one stage's live session: its participants and their media.
type Room struct {
	srv       *Server
	arn, id   string
	sessionID string

	mu           sync.Mutex
	participants map[string]*Participant
	firstJoin    map[string]time.Time // participant id -> first join in this session
	everPub      map[string]bool
	emptySince   time.Time
	ended        bool
}

func newRoom(s *Server, arn, id, sessionID string) *Room {
	return &Room{srv: s, arn: arn, id: id, sessionID: sessionID, participants: map[string]*Participant{},
		firstJoin: map[string]time.Time{}, everPub: map[string]bool{}, emptySince: time.Now()}
}

// SessionID is the stage session this room records into.
func (r *Room) SessionID() string { return r.sessionID }

// Participant is one joined participant: its event sockets and WHIP
// sessions. It leaves when it has neither.
type Participant struct {
	room   *Room
	id     Identity
	client Client

	// Guarded by room.mu.
	joinedAt   time.Time
	sinks      map[Sink]struct{}
	sessions   map[string]*Session
	pub        *publisher
	audioMuted bool
	videoMuted bool
	left       bool
}

// ID is the participant id.
func (p *Participant) ID() string { return p.id.ParticipantID }

// info returns the wire form; room.mu must be held.
func (p *Participant) info() ParticipantInfo {
	in := ParticipantInfo{ParticipantID: p.id.ParticipantID, UserID: p.id.UserID, Attributes: p.id.Attributes,
		Published: p.pub != nil && p.pub.isReady(), AudioMuted: p.audioMuted, VideoMuted: p.videoMuted,
		Tracks: []TrackInfo{}, JoinedAt: p.joinedAt.UTC().Truncate(time.Second), Joined: p.joinedAt.UnixNano()}
	if in.Attributes == nil {
		in.Attributes = map[string]string{}
	}
	if in.Published {
		in.Tracks = p.pub.trackInfo()
	}
	return in
}

// record builds the API participant; room.mu must be held.
func (p *Participant) record(state string) *rtapi.Participant {
	r := p.room
	pid, uid, proto := p.id.ParticipantID, p.id.UserID, "WHIP"
	first := r.firstJoin[pid]
	published := r.everPub[pid]
	rec := "DISABLED"
	out := &rtapi.Participant{ParticipantId: &pid, UserId: &uid, State: &state, FirstJoinTime: &first,
		Published: &published, Attributes: maps.Clone(p.id.Attributes), Protocol: &proto, RecordingState: &rec}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out.BrowserName, out.BrowserVersion = str(p.client.BrowserName), str(p.client.BrowserVersion)
	out.OsName, out.OsVersion = str(p.client.OSName), str(p.client.OSVersion)
	out.SdkVersion = str(p.client.SDKVersion)
	if out.Attributes == nil {
		out.Attributes = map[string]string{}
	}
	return out
}

func event(name, pid string) *rtapi.Event {
	now := time.Now().UTC()
	return &rtapi.Event{Name: &name, ParticipantId: &pid, EventTime: &now}
}

// join returns the participant, adding it when absent; room.mu must be held.
func (r *Room) join(id Identity, client Client) *Participant {
	if p := r.participants[id.ParticipantID]; p != nil {
		if client != (Client{}) {
			p.client = client
		}
		return p
	}
	now := time.Now()
	if _, ok := r.firstJoin[id.ParticipantID]; !ok {
		r.firstJoin[id.ParticipantID] = now.UTC().Truncate(time.Millisecond)
	}
	p := &Participant{room: r, id: id, client: client, joinedAt: now, sinks: map[Sink]struct{}{}, sessions: map[string]*Session{}}
	r.participants[id.ParticipantID] = p
	r.emptySince = time.Time{}
	info := p.info()
	r.broadcast(Event{Type: EventJoined, Participant: &info}, p)
	r.notify(RoomJoined, info)
	r.srv.record(r, p.record("CONNECTED"), event("JOINED", id.ParticipantID))
	r.srv.log.Info("participant joined", "stage_arn", r.arn, "participant_id", id.ParticipantID, "user_id", id.UserID)
	return p
}

// maybeLeave removes p when it has no sockets and no sessions; room.mu
// must be held.
func (r *Room) maybeLeave(p *Participant, reason string) {
	if p.left || len(p.sinks) > 0 || len(p.sessions) > 0 {
		return
	}
	p.left = true
	delete(r.participants, p.id.ParticipantID)
	if len(r.participants) == 0 {
		r.emptySince = time.Now()
	}
	info := p.info()
	r.broadcast(Event{Type: EventLeft, Participant: &info, Reason: reason}, p)
	r.notify(RoomLeft, info)
	r.srv.record(r, p.record("DISCONNECTED"), event("LEFT", p.id.ParticipantID))
	r.srv.log.Info("participant left", "stage_arn", r.arn, "participant_id", p.id.ParticipantID, "reason", reason)
}

// broadcast sends ev to every participant but except; room.mu held.
func (r *Room) broadcast(ev Event, except *Participant) {
	for _, q := range r.participants {
		if q == except {
			continue
		}
		for s := range q.sinks {
			s.Send(ev)
		}
	}
}

// notify tells watchers without blocking; room.mu held.
func (r *Room) notify(t RoomEventType, info ParticipantInfo) {
	s := r.srv
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for ch := range s.watchers[r.arn] {
		select {
		case ch <- RoomEvent{Type: t, Participant: info}:
		default:
			r.srv.log.Warn("room watcher is slow, event dropped", "stage_arn", r.arn, "event", t.String())
		}
	}
}

// Attach joins the participant through an events socket: sink gets a
// snapshot first, then every room event. detach undoes it (the
// participant leaves when nothing else keeps it).
func (s *Server) Attach(ctx context.Context, id Identity, client Client, sink Sink) (detach func(reason string), err error) {
	for {
		r, err := s.room(ctx, id, true)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.ended {
			r.mu.Unlock()
			continue
		}
		p := r.join(id, client)
		p.sinks[sink] = struct{}{}
		self := p.info()
		snap := Event{Type: EventSnapshot, Self: &self, Participants: []ParticipantInfo{}}
		for _, q := range r.sortedParticipants() {
			if q != p {
				snap.Participants = append(snap.Participants, q.info())
			}
		}
		sink.Send(snap)
		r.mu.Unlock()
		var once sync.Once
		return func(reason string) {
			once.Do(func() {
				r.mu.Lock()
				defer r.mu.Unlock()
				if _, ok := p.sinks[sink]; !ok {
					return
				}
				delete(p.sinks, sink)
				r.maybeLeave(p, reason)
			})
		}, nil
	}
}

func (r *Room) sortedParticipants() []*Participant {
	ps := slices.Collect(maps.Values(r.participants))
	slices.SortFunc(ps, func(a, b *Participant) int { return a.joinedAt.Compare(b.joinedAt) })
	return ps
}

// SetMuted records a participant's mute state and tells the others.
func (s *Server) SetMuted(stageARN, participantID, kind string, muted bool) {
	r := s.Room(stageARN)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.participants[participantID]
	if p == nil {
		return
	}
	switch kind {
	case "audio":
		p.audioMuted = muted
	case "video":
		p.videoMuted = muted
	default:
		return
	}
	info := p.info()
	r.broadcast(Event{Type: EventUpdated, Participant: &info}, p)
	r.notify(RoomUpdated, info)
}

// kick ends everything of one participant.
func (r *Room) kick(pid, reason string) {
	r.mu.Lock()
	p := r.participants[pid]
	if p == nil {
		r.mu.Unlock()
		return
	}
	sinks := slices.Collect(maps.Keys(p.sinks))
	clear(p.sinks)
	sessions := slices.Collect(maps.Values(p.sessions))
	r.mu.Unlock()
	for _, s := range sinks {
		s.Close(reason)
	}
	for _, ss := range sessions {
		ss.close(reason)
	}
	r.mu.Lock()
	r.maybeLeave(p, reason)
	r.mu.Unlock()
}

// closeAll kicks everyone (server shutdown).
func (r *Room) closeAll(reason string) {
	r.mu.Lock()
	ids := slices.Collect(maps.Keys(r.participants))
	r.mu.Unlock()
	for _, id := range ids {
		r.kick(id, reason)
	}
}

// end closes the room's stage session.
func (r *Room) end(ctx context.Context) {
	if c := r.srv.cfg.Control; c != nil && r.sessionID != "" {
		if err := c.EndSession(ctx, r.arn, r.sessionID); err != nil {
			var nf *model.NotFoundError
			if errors.As(err, &nf) { // the stage was deleted with its sessions
				return
			}
			r.srv.log.Warn("end stage session", "stage_arn", r.arn, "session_id", r.sessionID, "error", err)
			return
		}
	}
	r.srv.log.Info("stage session ended", "stage_arn", r.arn, "session_id", r.sessionID)
}

// publishers counts publishing participants; room.mu held.
func (r *Room) publishers() int {
	n := 0
	for _, p := range r.participants {
		if p.pub != nil {
			n++
		}
	}
	return n
}

// Participants lists the room's participants.
func (r *Room) Participants() []ParticipantInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ParticipantInfo
	for _, p := range r.sortedParticipants() {
		out = append(out, p.info())
	}
	return out
}
