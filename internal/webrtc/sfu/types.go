package sfu

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Errors the signalling layer maps to HTTP statuses.
var (
	// ErrPublisherCap: the stage already has its maximum of publishers (409).
	ErrPublisherCap = errors.New("stage publisher limit reached")
	// ErrSubscriberCap: the node serves its maximum of subscriptions (409).
	ErrSubscriberCap = errors.New("subscriber limit reached")
	// ErrNotFound: unknown stage room, participant, or session (404).
	ErrNotFound = errors.New("not found")
	// ErrNotPublishing: the participant to subscribe to publishes nothing (404).
	ErrNotPublishing = errors.New("participant is not publishing")
	// ErrBadOffer: the SDP offer is unusable (400).
	ErrBadOffer = errors.New("bad sdp offer")
	// ErrClosed: the server is shutting down (503).
	ErrClosed = errors.New("sfu closed")
)

// Config configures a Server.
type Config struct {
	// MaxPublishers caps publishers per stage (IVS: 12); MaxSubscribers
	// caps subscribe sessions across the server.
	MaxPublishers, MaxSubscribers int
	// UDPListen is the single UDP address all ICE traffic shares.
	UDPListen string
	// NAT1To1IPs replace the bound address in host candidates.
	NAT1To1IPs []string
	// ICE consent-freshness timeouts: disconnected after
	// ICEDisconnectedTimeout without inbound traffic, failed (and the
	// session closed) ICEFailedTimeout later.
	ICEDisconnectedTimeout, ICEFailedTimeout time.Duration
	// ConnectTimeout closes a session whose ICE/DTLS never completes.
	ConnectTimeout time.Duration
	// SessionEndDelay: how long an empty stage keeps its session open.
	SessionEndDelay time.Duration
	// Control records sessions, participants and participant events (the
	// stages service); nil records nothing.
	Control Control
	// Events receives "IVS Stage Update" events; nil drops them.
	Events EventPublisher
	Log    *slog.Logger
}

// Control is the part of the stages service the SFU reports to
// (*stages.Service implements it).
type Control interface {
	StartSession(ctx context.Context, stageARN string) (string, error)
	EndSession(ctx context.Context, stageARN, sessionID string) error
	RecordParticipant(ctx context.Context, stageARN, sessionID string, p *rtapi.Participant) error
	RecordParticipantEvent(ctx context.Context, stageARN, sessionID string, ev *rtapi.Event) error
}

// EventPublisher is control.Publisher.
type EventPublisher interface {
	Publish(ctx context.Context, detailType string, resources []string, detail map[string]any)
}

// Identity is who joins: the verified token's claims that matter here.
type Identity struct {
	StageARN, StageID string
	ParticipantID     string
	UserID            string
	Attributes        map[string]string
	Publish           bool
	Subscribe         bool
}

// Client describes the participant's software, from its User-Agent.
type Client struct {
	BrowserName, BrowserVersion string
	OSName, OSVersion           string
	SDKVersion                  string
}

// TrackInfo is one published track, as the events WebSocket shows it.
type TrackInfo struct {
	Kind  string `json:"kind"`
	Codec string `json:"codec"`
	// Layers lists simulcast encodings (rid); empty without simulcast.
	Layers []string `json:"layers,omitempty"`
}

// ParticipantInfo is a participant as the events WebSocket shows it.
type ParticipantInfo struct {
	ParticipantID string            `json:"participantId"`
	UserID        string            `json:"userId"`
	Attributes    map[string]string `json:"attributes"`
	Published     bool              `json:"published"`
	AudioMuted    bool              `json:"audioMuted"`
	VideoMuted    bool              `json:"videoMuted"`
	Tracks        []TrackInfo       `json:"tracks"`
	JoinedAt      time.Time         `json:"joinedAt"`
	// Joined is the join time in Unix nanoseconds (orders participants
	// that joined within the same second).
	Joined int64 `json:"-"`
}

// Event is one server-to-client message of the events WebSocket.
type Event struct {
	Type         string            `json:"type"`
	Self         *ParticipantInfo  `json:"self,omitempty"`
	Participants []ParticipantInfo `json:"participants,omitzero"`
	Participant  *ParticipantInfo  `json:"participant,omitempty"`
	Reason       string            `json:"reason,omitempty"`
}

// Event types.
const (
	EventSnapshot     = "snapshot"
	EventJoined       = "participant_joined"
	EventLeft         = "participant_left"
	EventPublished    = "participant_published"
	EventUnpublished  = "participant_unpublished"
	EventUpdated      = "participant_updated"
	EventDisconnected = "disconnected"
)

// Sink receives a participant's events (the events WebSocket). Send must
// not block; Close ends the socket after queued events (reason is sent in
// a "disconnected" event first when non-empty).
type Sink interface {
	Send(ev Event)
	Close(reason string)
}

// RoomEventType says what changed in a room.
type RoomEventType int

// Room event types.
const (
	RoomJoined RoomEventType = iota + 1
	RoomLeft
	RoomPublished
	RoomUnpublished
	// RoomUpdated: mute state changed.
	RoomUpdated
)

func (t RoomEventType) String() string {
	switch t {
	case RoomJoined:
		return "joined"
	case RoomLeft:
		return "left"
	case RoomPublished:
		return "published"
	case RoomUnpublished:
		return "unpublished"
	case RoomUpdated:
		return "updated"
	}
	return "unknown"
}

// RoomEvent is what Watch reports.
type RoomEvent struct {
	Type        RoomEventType
	Participant ParticipantInfo
}

// Stats are server-wide counters.
type Stats struct {
	Rooms, Publishers, Subscribers int
	// ForwardedPackets and DroppedPackets count RTP packets queued to, and
	// dropped before, subscriber connections (a full writer queue drops,
	// and so does a writer more than 250 ms behind).
	ForwardedPackets, DroppedPackets uint64
	ForwardedBytes                   uint64
}
