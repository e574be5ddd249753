package compose

import (
	"context"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

// SinkDestination publishes the composition into a channel's live session
// like an ingest protocol would: Start calls Sink.Publish with Protocol
// ingest.Internal and the channel's stream key; the ingest.Session is the
// Writer.
type SinkDestination struct {
	Sink ingest.Sink
	// StreamKey returns the channel's stream key (looked up at every
	// Start, so a rotated key is picked up on reconnect).
	StreamKey func(ctx context.Context) (auth.Secret, error)
	// RemoteAddr names the publisher in stream sessions ("composition
	// <arn>").
	RemoteAddr string
}

// Start implements Destination.
func (d *SinkDestination) Start(ctx context.Context, tracks []media.Track) (Writer, error) {
	key, err := d.StreamKey(ctx)
	if err != nil {
		return nil, err
	}
	return d.Sink.Publish(ctx, ingest.Request{Protocol: ingest.Internal, StreamKey: key, RemoteAddr: d.RemoteAddr,
		Tracks: tracks, Encoder: "stagecast composition"})
}
