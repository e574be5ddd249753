package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// sweepEvery is how often empty rooms are checked for ending their session.
const sweepEvery = 500 * time.Millisecond

// stageCheckEvery is how often live rooms check that their stage still
// exists (a deleted stage disconnects everyone).
const stageCheckEvery = 5 * time.Second

// stageGetter is the optional part of Control that tells whether a stage
// still exists (*stages.Service has it).
type stageGetter interface {
	GetStage(ctx context.Context, in *rtapi.GetStageRequest) (*rtapi.GetStageResponse, error)
}

// checkStages disconnects everyone from rooms whose stage was deleted.
func (s *Server) checkStages(ctx context.Context) {
	g, ok := s.cfg.Control.(stageGetter)
	if !ok {
		return
	}
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		arn := r.arn
		_, err := g.GetStage(ctx, &rtapi.GetStageRequest{Arn: &arn})
		var nf *model.NotFoundError
		if !errors.As(err, &nf) {
			continue
		}
		s.log.Info("stage deleted, disconnecting its participants", "stage_arn", arn)
		s.mu.Lock()
		if s.rooms[arn] == r {
			delete(s.rooms, arn)
		}
		s.mu.Unlock()
		r.mu.Lock()
		r.ended = true
		r.mu.Unlock()
		r.closeAll("stage deleted")
	}
}

// Server is the SFU: one Room per stage with participants.
type Server struct {
	cfg Config
	log *slog.Logger
	eng *engine

	ctx    context.Context // cancelled by Close; parent of session work
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server starts

	// goMu guards goClosed: set once Close waits on wg (see goFn).
	goMu     sync.Mutex
	goClosed bool

	mu     sync.Mutex
	rooms  map[string]*Room // by stage ARN
	closed bool

	wmu      sync.Mutex
	watchers map[string]map[chan RoomEvent]struct{} // by stage ARN

	subscribers atomic.Int64
	forwarded   atomic.Uint64
	fwdBytes    atomic.Uint64
	dropped     atomic.Uint64
	lat         latencyHist
	fan         *fanout // forwarded packets' writers, one per core

	// ctl is the ordered queue of control-plane calls (records, events),
	// run by Run so that media paths never wait for the store.
	ctlMu     sync.Mutex
	ctl       []func(context.Context)
	ctlSignal chan struct{}
	runDone   chan struct{}
}

// New binds the UDP mux and returns a server; Run must be called.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPublishers <= 0 {
		cfg.MaxPublishers = 12
	}
	if cfg.MaxSubscribers <= 0 {
		cfg.MaxSubscribers = 10000
	}
	if cfg.ICEDisconnectedTimeout <= 0 {
		cfg.ICEDisconnectedTimeout = 3 * time.Second
	}
	if cfg.ICEFailedTimeout <= 0 {
		cfg.ICEFailedTimeout = 2 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.SessionEndDelay <= 0 {
		cfg.SessionEndDelay = 30 * time.Second
	}
	if cfg.UDPListen == "" {
		cfg.UDPListen = "127.0.0.1:0"
	}
	log := cfg.Log.With("component", "sfu")
	eng, err := newEngine(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: log, eng: eng, ctx: ctx, cancel: cancel, rooms: map[string]*Room{},
		watchers:  map[string]map[chan RoomEvent]struct{}{},
		ctlSignal: make(chan struct{}, 1), runDone: make(chan struct{})}
	s.fan = newFanout(runtime.GOMAXPROCS(0), fanQueueLen, &s.lat, &s.dropped)
	for i := range s.fan.workers {
		s.goFn(func() { s.fan.run(ctx, i) }) // ends when Close cancels ctx
	}
	return s, nil
}

// UDPAddr is the bound ICE UDP address.
func (s *Server) UDPAddr() *net.UDPAddr { return s.eng.udpAddr() }

// Run records control-plane state and ends idle stage sessions until ctx
// is cancelled; then it closes every connection and returns after all the
// server's goroutines exited.
func (s *Server) Run(ctx context.Context) error {
	defer close(s.runDone)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	check := time.NewTicker(stageCheckEvery)
	defer check.Stop()
	for {
		select {
		case <-check.C:
			s.checkStages(ctx)
		case <-ctx.Done():
			s.Close()
			s.drainControl(context.WithoutCancel(ctx))
			s.endAll(context.WithoutCancel(ctx))
			return nil
		case <-s.ctlSignal:
			s.drainControl(ctx)
		case now := <-t.C:
			s.drainControl(ctx)
			s.sweep(ctx, now)
		}
	}
}

// Close hangs up every participant and waits for the media goroutines.
// It is idempotent; Run calls it on cancellation.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.closeAll("server shutting down")
	}
	s.cancel()
	s.goMu.Lock()
	s.goClosed = true
	s.goMu.Unlock()
	s.wg.Wait()
	s.eng.close()
	s.wmu.Lock()
	for _, set := range s.watchers {
		for ch := range set {
			close(ch)
		}
	}
	clear(s.watchers)
	s.wmu.Unlock()
}

// goFn runs f on a goroutine the server waits for in Close.
//
// Once Close has started waiting, goFn drops f: pion callbacks that fire
// during shutdown (a connection closing) would otherwise Add to the
// WaitGroup while Close waits on it. Close tears every session down
// itself, so nothing they would have done is lost.
func (s *Server) goFn(f func()) {
	s.goMu.Lock()
	defer s.goMu.Unlock()
	if s.goClosed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// control queues a control-plane call; it never blocks.
func (s *Server) control(f func(ctx context.Context)) {
	s.ctlMu.Lock()
	s.ctl = append(s.ctl, f)
	s.ctlMu.Unlock()
	select {
	case s.ctlSignal <- struct{}{}:
	default:
	}
}

func (s *Server) drainControl(ctx context.Context) {
	for {
		s.ctlMu.Lock()
		q := s.ctl
		s.ctl = nil
		s.ctlMu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f(ctx)
		}
	}
}

// sweep ends the sessions of rooms empty for longer than SessionEndDelay.
func (s *Server) sweep(ctx context.Context, now time.Time) {
	var ended []*Room
	s.mu.Lock()
	for arn, r := range s.rooms {
		r.mu.Lock()
		if len(r.participants) == 0 && !r.emptySince.IsZero() && now.Sub(r.emptySince) >= s.cfg.SessionEndDelay {
			delete(s.rooms, arn)
			r.ended = true
			ended = append(ended, r)
		}
		r.mu.Unlock()
	}
	// The session ends before the lock is released so that a join racing
	// with it starts a new session rather than reusing this one.
	for _, r := range ended {
		r.end(ctx)
	}
	s.mu.Unlock()
}

func (s *Server) endAll(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for arn, r := range s.rooms {
		delete(s.rooms, arn)
		r.end(ctx)
	}
}

// room returns the stage's room, creating it (and starting a stage
// session) when create is set.
func (s *Server) room(ctx context.Context, id Identity, create bool) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if r := s.rooms[id.StageARN]; r != nil || !create {
		if r == nil {
			return nil, fmt.Errorf("stage %s: %w", id.StageID, ErrNotFound)
		}
		return r, nil
	}
	sessionID := ""
	if s.cfg.Control != nil {
		var err error
		if sessionID, err = s.cfg.Control.StartSession(ctx, id.StageARN); err != nil {
			return nil, fmt.Errorf("start stage session: %w", err)
		}
	}
	r := newRoom(s, id.StageARN, id.StageID, sessionID)
	s.rooms[id.StageARN] = r
	s.log.Info("stage session started", "stage_arn", id.StageARN, "session_id", sessionID)
	return r, nil
}

// Room returns the live room of a stage, or nil.
func (s *Server) Room(stageARN string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[stageARN]
}

// Disconnect implements stages.Media: the participant's sockets get a
// "disconnected" event and close, its WHIP sessions end.
func (s *Server) Disconnect(_ context.Context, stageARN, participantID, reason string) error {
	r := s.Room(stageARN)
	if r == nil {
		return nil
	}
	if reason == "" {
		reason = "disconnected by the stage owner"
	}
	r.kick(participantID, reason)
	return nil
}

// Stats returns server-wide counters.
func (s *Server) Stats() Stats {
	st := Stats{Subscribers: int(s.subscribers.Load()), ForwardedPackets: s.forwarded.Load(),
		DroppedPackets: s.dropped.Load(), ForwardedBytes: s.fwdBytes.Load()}
	s.mu.Lock()
	st.Rooms = len(s.rooms)
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		st.Publishers += r.publishers()
		r.mu.Unlock()
	}
	return st
}

// record queues a participant record and optional events.
func (s *Server) record(r *Room, p *rtapi.Participant, evs ...*rtapi.Event) {
	c := s.cfg.Control
	if c == nil || r.sessionID == "" {
		return
	}
	s.control(func(ctx context.Context) {
		if p != nil {
			if err := c.RecordParticipant(ctx, r.arn, r.sessionID, p); err != nil {
				s.log.Warn("record participant", "stage_arn", r.arn, "error", err)
			}
		}
		for _, ev := range evs {
			if err := c.RecordParticipantEvent(ctx, r.arn, r.sessionID, ev); err != nil {
				s.log.Warn("record participant event", "stage_arn", r.arn, "error", err)
			}
		}
	})
}

// stageUpdate publishes an "IVS Stage Update" event.
func (s *Server) stageUpdate(r *Room, name, participantID, userID, errorCode string) {
	if s.cfg.Events == nil {
		return
	}
	detail := map[string]any{
		"session_id": r.sessionID, "event_name": name, "event_time": time.Now().UTC().Format(time.RFC3339),
		"user_id": userID, "participant_id": participantID,
	}
	if errorCode != "" {
		detail["error_code"] = errorCode
	}
	ev := s.cfg.Events
	s.control(func(ctx context.Context) { ev.Publish(ctx, "IVS Stage Update", []string{r.arn}, detail) })
}
