package ingest

import (
	"context"
	"errors"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/media"
)

// Protocol names an ingest protocol as stream sessions report it.
type Protocol string

// Ingest protocols.
const (
	RTMP  Protocol = "RTMP"
	RTMPS Protocol = "RTMPS"
	SRT   Protocol = "SRT"
	RTP   Protocol = "RTP"
	WHIP  Protocol = "WHIP"
	// Internal is media produced inside Stagecast (a composition).
	Internal Protocol = "INTERNAL"
)

// Request is a publisher asking to go live.
type Request struct {
	Protocol   Protocol
	StreamKey  auth.Secret
	RemoteAddr string
	// Passphrase is the SRT passphrase the caller encrypted with ("" when
	// unencrypted). RTMP leaves it empty.
	Passphrase auth.Secret
	Tracks     []media.Track
	// Encoder is the publisher's self-description when it sends one (RTMP
	// metadata "encoder"), for the stream session's ingest configuration.
	Encoder string
}

// Sink admits publishers. package live implements it.
type Sink interface {
	// Publish authenticates req and attaches the publisher to its channel.
	// Errors are ErrUnknownStreamKey, ErrChannelBusy, ErrUnsupported or
	// another error whose text is safe to log (never the key).
	Publish(ctx context.Context, req Request) (Session, error)
	// SRTPassphrase returns the passphrase an SRT caller presenting this
	// stream key must encrypt with ("" for none), or ErrUnknownStreamKey.
	// SRT needs it during the handshake, before Publish.
	SRTPassphrase(ctx context.Context, streamKey auth.Secret) (auth.Secret, error)
}

// Session is one admitted publisher.
type Session interface {
	// Write passes one unit on; it never blocks. Track indexes refer to
	// Request.Tracks.
	Write(u *media.Unit)
	// Done is closed when the server wants the publisher gone (StopStream,
	// the channel or key deleted, shutdown); the protocol server then
	// closes the connection.
	Done() <-chan struct{}
	// Close reports that the publisher went away: err nil for a clean end
	// (unpublish), else why the connection failed. Idempotent.
	Close(err error)
	// ChannelARN names the channel, for logs.
	ChannelARN() string
}

// Errors a Sink returns.
var (
	ErrUnknownStreamKey = errors.New("unknown or deleted stream key")
	ErrChannelBusy      = errors.New("channel already has a publisher")
	ErrUnsupported      = errors.New("unsupported media for this channel")
)
