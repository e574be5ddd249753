package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

// DetailType is the EventBridge detail-type of stream state events.
const DetailType = "IVS Stream State Change"

// Stream state event names (detail.event_name).
const (
	EventSessionCreated = "Session Created"
	EventStreamStart    = "Stream Start"
	EventStreamEnd      = "Stream End"
	EventStreamFailure  = "Stream Failure"
)

// ErrInsecureIngest refuses plain RTMP on channels that require RTMPS
// (insecureIngest false, the IVS default).
var ErrInsecureIngest = errors.New("insecure ingest not allowed")

// starvingAfter is how long without units makes a live stream STARVING.
const starvingAfter = 2 * time.Second

// Channels is what the manager needs from the ivs service
// (*channels.Service satisfies it).
type Channels interface {
	ChannelForStreamKey(ctx context.Context, value string) (*ivsapi.Channel, error)
	GetChannel(ctx context.Context, in *ivsapi.GetChannelRequest) (*ivsapi.GetChannelResponse, error)
	RecordStreamSession(ctx context.Context, channelARN string, doc *channels.StreamSessionDoc) error
}

// Pipeline is what a session feeds: packagers, transcoder, recorder.
type Pipeline interface {
	// InsertMetadata adds timed metadata at the live edge.
	InsertMetadata(payload string) error
	// Viewers returns the current viewer count.
	Viewers() int
	// Close stops the pipeline after the hub has closed and returns when
	// everything it started has exited.
	Close()
}

// PipelineFactory builds a session's pipeline reading s.Hub. It is called
// without locks held.
type PipelineFactory func(ctx context.Context, s *Session) (Pipeline, error)

// Config configures a Manager.
type Config struct {
	Channels Channels
	Pipeline PipelineFactory
	Events   control.Publisher
	Log      *slog.Logger
	// ReconnectWindow is how long a session waits for its publisher to come
	// back; 0 ends sessions as soon as the publisher leaves.
	ReconnectWindow time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager owns every live session of the node.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}

	// mu guards sessions and closed.
	mu       sync.Mutex
	sessions map[string]*Session // by channel ARN
	closed   bool

	// ending counts sessions being torn down outside the lock.
	ending sync.WaitGroup
}

// NewManager returns a manager; call Run to serve.
func NewManager(cfg Config) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, log: cfg.Log, sessions: map[string]*Session{}, wake: make(chan struct{}, 1)}
}

var _ ingest.Sink = (*Manager)(nil)
var _ channels.LiveState = (*Manager)(nil)

// Run ends sessions whose reconnect window passed and refreshes their
// ingest statistics until ctx ends; then it ends every session and returns
// after their pipelines have closed.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return nil
		case <-t.C:
		case <-m.wake:
		}
		m.tick(ctx)
	}
}

func (m *Manager) tick(ctx context.Context) {
	now := m.cfg.Now()
	var expired, stats []*Session
	m.mu.Lock()
	for _, s := range m.sessions {
		if s.pub == nil && !s.waitUntil.IsZero() && !now.Before(s.waitUntil) {
			expired = append(expired, s)
		} else if s.pub != nil && !s.statsRecorded && now.Sub(s.Start) >= statsAfter {
			s.statsRecorded = true
			stats = append(stats, s)
		}
	}
	m.mu.Unlock()
	for _, s := range expired {
		m.end(ctx, s, "reconnect window passed")
	}
	for _, s := range stats {
		m.record(ctx, s)
	}
}

func (m *Manager) shutdown() {
	m.mu.Lock()
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range all {
		m.end(ctx, s, "server shutting down")
	}
	m.ending.Wait()
}

// SRTPassphrase implements ingest.Sink.
func (m *Manager) SRTPassphrase(ctx context.Context, key auth.Secret) (auth.Secret, error) {
	ch, err := m.channelFor(ctx, key)
	if err != nil {
		return "", err
	}
	if ch.Srt == nil || ch.Srt.Passphrase == nil {
		return "", nil
	}
	return auth.Secret(*ch.Srt.Passphrase), nil
}

func (m *Manager) channelFor(ctx context.Context, key auth.Secret) (*ivsapi.Channel, error) {
	ch, err := m.cfg.Channels.ChannelForStreamKey(ctx, key.Reveal())
	var nf *model.NotFoundError
	if errors.As(err, &nf) {
		return nil, ingest.ErrUnknownStreamKey
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream key: %w", err)
	}
	return ch, nil
}

// Publish implements ingest.Sink.
func (m *Manager) Publish(ctx context.Context, req ingest.Request) (ingest.Session, error) {
	ch, err := m.channelFor(ctx, req.StreamKey)
	if err != nil {
		return nil, err
	}
	return m.admit(ctx, ch, req)
}

// PublishInternal makes media produced inside Stagecast (a composition)
// the live stream of channelARN, without a stream key. The same rules as
// for an external publisher apply: a channel that is already live answers
// ingest.ErrChannelBusy.
func (m *Manager) PublishInternal(ctx context.Context, channelARN string, tracks []media.Track) (ingest.Session, error) {
	out, err := m.cfg.Channels.GetChannel(ctx, &ivsapi.GetChannelRequest{Arn: &channelARN})
	if err != nil {
		return nil, err
	}
	return m.admit(ctx, out.Channel, ingest.Request{Protocol: ingest.Internal, RemoteAddr: "composition", Tracks: tracks, Encoder: "stagecast composition"})
}

func (m *Manager) admit(ctx context.Context, ch *ivsapi.Channel, req ingest.Request) (ingest.Session, error) {
	arn := deref(ch.Arn)
	if req.Protocol == ingest.RTMP && (ch.InsecureIngest == nil || !*ch.InsecureIngest) {
		return nil, fmt.Errorf("%w: plain RTMP is refused on a channel without insecureIngest; publish with RTMPS", ErrInsecureIngest)
	}
	if err := checkTracks(ch, req.Tracks); err != nil {
		m.publish(ctx, EventStreamFailure, ch, "", map[string]any{"reason": err.Error()})
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("server shutting down")
	}
	s := m.sessions[arn]
	if s != nil && s.pub != nil {
		m.mu.Unlock()
		return nil, ingest.ErrChannelBusy
	}
	if s != nil && s.compatible(req.Tracks) {
		p := s.attach()
		m.mu.Unlock()
		m.log.Info("publisher reconnected", "channel_arn", arn, "stream_id", s.StreamID,
			"protocol", req.Protocol, "remote_addr", req.RemoteAddr)
		s.addEvent(m.cfg.Now(), EventStreamStart, "publisher reconnected within the reconnect window")
		m.record(ctx, s)
		m.publish(ctx, EventStreamStart, ch, s.StreamID, nil)
		return p, nil
	}
	var old *Session
	if s != nil { // waiting for a reconnect, but the new tracks differ
		old = s
		delete(m.sessions, arn)
	}
	s = newSession(m, ch, req, m.cfg.Now())
	m.sessions[arn] = s
	p := s.attach()
	m.mu.Unlock()
	if old != nil {
		m.end(ctx, old, "publisher came back with different tracks")
	}

	pl, err := m.cfg.Pipeline(ctx, s)
	if err != nil {
		m.mu.Lock()
		if m.sessions[arn] == s {
			delete(m.sessions, arn)
		}
		m.mu.Unlock()
		s.Hub.Close()
		m.publish(ctx, EventStreamFailure, ch, s.StreamID, map[string]any{"reason": "pipeline: " + err.Error()})
		return nil, fmt.Errorf("start pipeline: %w", err)
	}
	s.setPipeline(pl)
	m.log.Info("stream started", "channel_arn", arn, "stream_id", s.StreamID, "protocol", req.Protocol,
		"remote_addr", req.RemoteAddr, "tracks", fmt.Sprint(req.Tracks))
	s.addEvent(s.Start, EventSessionCreated, "")
	s.addEvent(s.Start, EventStreamStart, "")
	m.record(ctx, s)
	m.publish(ctx, EventSessionCreated, ch, s.StreamID, nil)
	m.publish(ctx, EventStreamStart, ch, s.StreamID, nil)
	return p, nil
}

// detach is called by a publisher's Close.
func (m *Manager) detach(s *Session, p *publisher, err error) {
	m.mu.Lock()
	if s.pub != p {
		m.mu.Unlock()
		return
	}
	s.pub = nil
	// A clean unpublish ends the session; only a dropped publisher gets
	// the reconnect window.
	window := m.cfg.ReconnectWindow
	endNow := window <= 0 || m.closed || p.stopped || err == nil
	if !endNow {
		s.waitUntil = m.cfg.Now().Add(window)
	}
	m.mu.Unlock()
	arn := s.ChannelARN()
	if err != nil {
		m.log.Info("publisher disconnected", "channel_arn", arn, "stream_id", s.StreamID, "err", err)
	} else {
		m.log.Info("publisher ended the stream", "channel_arn", arn, "stream_id", s.StreamID)
	}
	if endNow {
		m.end(context.Background(), s, "publisher left")
	}
}

// end finishes s once: hub closed, pipeline closed, Stream End recorded.
func (m *Manager) end(ctx context.Context, s *Session, why string) {
	m.mu.Lock()
	if s.ended {
		m.mu.Unlock()
		return
	}
	s.ended = true
	if m.sessions[s.ChannelARN()] == s {
		delete(m.sessions, s.ChannelARN())
	}
	p := s.pub
	s.pub = nil
	m.ending.Add(1)
	m.mu.Unlock()
	defer m.ending.Done()
	if p != nil {
		p.kick()
	}
	s.Hub.Close()
	if pl := s.pipeline(); pl != nil {
		pl.Close()
	}
	now := m.cfg.Now()
	s.setEnd(now)
	s.addEvent(now, EventStreamEnd, why)
	m.record(ctx, s)
	m.publish(ctx, EventStreamEnd, s.Channel, s.StreamID, nil)
	m.log.Info("stream ended", "channel_arn", s.ChannelARN(), "stream_id", s.StreamID, "reason", why)
}

// IsLive implements channels.LiveState: a publisher is attached.
func (m *Manager) IsLive(channelARN string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[channelARN]
	return s != nil && s.pub != nil
}

// LiveCount returns how many channels have a publisher attached.
func (m *Manager) LiveCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sessions {
		if s.pub != nil {
			n++
		}
	}
	return n
}

// Session returns the channel's current session (live or waiting for its
// publisher to reconnect).
func (m *Manager) Session(channelARN string) (*Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[channelARN]
	return s, ok
}

// Stop implements channels.LiveState: the publisher is disconnected and
// the session ends without waiting for a reconnect.
func (m *Manager) Stop(ctx context.Context, channelARN string) error {
	m.mu.Lock()
	s := m.sessions[channelARN]
	if s == nil || s.pub == nil {
		m.mu.Unlock()
		return &model.NotBroadcastingError{}
	}
	s.pub.stopped = true
	m.mu.Unlock()
	m.end(ctx, s, "StopStream")
	return nil
}

// Stream implements channels.LiveState.
func (m *Manager) Stream(channelARN string) (*ivsapi.Stream, bool) {
	m.mu.Lock()
	s := m.sessions[channelARN]
	live := s != nil && s.pub != nil
	m.mu.Unlock()
	if !live {
		return nil, false
	}
	health := "HEALTHY"
	if last := s.lastUnit(); last.IsZero() || m.cfg.Now().Sub(last) > starvingAfter {
		health = "STARVING"
	}
	var viewers int64
	if pl := s.pipeline(); pl != nil {
		viewers = int64(pl.Viewers())
	}
	start := s.Start.UTC()
	return &ivsapi.Stream{
		ChannelArn: &channelARN, StreamId: ptr(s.StreamID), PlaybackUrl: s.Channel.PlaybackUrl,
		StartTime: &start, State: ptr("LIVE"), Health: &health, ViewerCount: &viewers,
	}, true
}

// PutMetadata implements channels.LiveState.
func (m *Manager) PutMetadata(_ context.Context, channelARN, payload string) error {
	m.mu.Lock()
	s := m.sessions[channelARN]
	live := s != nil && s.pub != nil
	m.mu.Unlock()
	if !live {
		return &model.NotBroadcastingError{}
	}
	pl := s.pipeline()
	if pl == nil {
		return &model.NotBroadcastingError{}
	}
	return pl.InsertMetadata(payload)
}

func (m *Manager) record(ctx context.Context, s *Session) {
	doc := s.sessionDoc()
	if err := m.cfg.Channels.RecordStreamSession(ctx, s.ChannelARN(), doc); err != nil {
		var nf *model.NotFoundError
		if !errors.As(err, &nf) { // a deleted channel has no sessions to keep
			m.log.Warn("record stream session", "channel_arn", s.ChannelARN(), "stream_id", s.StreamID, "err", err)
		}
	}
}

func (m *Manager) publish(ctx context.Context, name string, ch *ivsapi.Channel, streamID string, extra map[string]any) {
	if m.cfg.Events == nil {
		return
	}
	detail := map[string]any{"event_name": name, "channel_name": deref(ch.Name)}
	if streamID != "" {
		detail["stream_id"] = streamID
	}
	for k, v := range extra {
		detail[k] = v
	}
	m.cfg.Events.Publish(ctx, DetailType, []string{deref(ch.Arn)}, detail)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// checkTracks refuses what the channel type cannot carry: STANDARD and
// ADVANCED channels transcode H.264 only; BASIC passes H.265 and AV1 on.
func checkTracks(ch *ivsapi.Channel, tracks []media.Track) error {
	if len(tracks) == 0 {
		return fmt.Errorf("%w: no audio or video track", ingest.ErrUnsupported)
	}
	basic := deref(ch.Type) == "BASIC"
	for _, t := range tracks {
		switch t.Codec {
		case media.H264, media.AAC:
		case media.H265, media.AV1:
			if !basic {
				return fmt.Errorf("%w: %s video needs a BASIC channel (this one is %s)", ingest.ErrUnsupported, t.Codec, deref(ch.Type))
			}
		default:
			return fmt.Errorf("%w: codec %s", ingest.ErrUnsupported, t.Codec)
		}
	}
	return nil
}

// statsAfter is when a session's measured ingest figures are recorded.
const statsAfter = 5 * time.Second
