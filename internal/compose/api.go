package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Publisher is one participant publishing on a stage.
type Publisher struct {
	ParticipantID string
	// Attributes are the participant token's attributes (featured, pip
	// and order attributes are looked up here).
	Attributes map[string]string
	// VideoStopped is true when the participant publishes no video or
	// muted it; AudioStopped likewise for audio.
	VideoStopped, AudioStopped bool
	// Joined orders publishers by arrival; any increasing value works
	// (Unix nanoseconds, a sequence number).
	Joined int64
}

// Source is one subscription to a publisher's media: *stream.Reader plus
// the hub's tracks satisfies it.
type Source interface {
	// Tracks are the publisher's tracks; Unit.Track indexes them.
	Tracks() []media.Track
	// C delivers units; it is closed when the publisher goes away or the
	// source is closed.
	C() <-chan *media.Unit
	// Close detaches the subscription; idempotent.
	Close()
}

// Stages is the SFU as the compositor sees it.
type Stages interface {
	// Watch reports the stage's publishers now and after every change
	// (join, leave, mute) until ctx is done; the channel is then closed.
	Watch(ctx context.Context, stageARN string) (<-chan []Publisher, error)
	// Subscribe attaches to a publisher's media.
	Subscribe(ctx context.Context, stageARN, participantID string) (Source, error)
	// RequestKeyFrame asks a publisher for a video key frame (a decoder
	// that starts or restarts waits for one).
	RequestKeyFrame(ctx context.Context, stageARN, participantID string) error
}

// Destination receives a composition's encoded output (a channel, an S3
// recording).
type Destination interface {
	// Start begins a delivery of the given tracks (H.264 video, AAC
	// audio); the first unit written is a video key frame.
	Start(ctx context.Context, tracks []media.Track) (Writer, error)
}

// Writer is one running delivery; ingest.Session satisfies it.
type Writer interface {
	// Write passes a unit on without blocking.
	Write(u *media.Unit)
	// Done is closed when the delivery failed or was ended by its side;
	// the compositor then reconnects (Start again) with backoff.
	Done() <-chan struct{}
	// Close ends the delivery: err nil for a clean end. Idempotent.
	Close(err error)
}

// VideoConfig is an encoder configuration's video settings.
type VideoConfig struct {
	Width, Height int
	Framerate     float64
	Bitrate       int // bits per second
}

// DefaultVideo is IVS's default encoder configuration.
var DefaultVideo = VideoConfig{Width: 1280, Height: 720, Framerate: 30, Bitrate: 2_500_000}

// FromRTAPI converts an encoder configuration's video, defaults applied.
func VideoFromRTAPI(v *rtapi.Video) VideoConfig {
	c := DefaultVideo
	if v == nil {
		return c
	}
	if v.Width != nil {
		c.Width = int(*v.Width)
	}
	if v.Height != nil {
		c.Height = int(*v.Height)
	}
	if v.Framerate != nil {
		c.Framerate = *v.Framerate
	}
	if v.Bitrate != nil {
		c.Bitrate = int(*v.Bitrate)
	}
	return c
}

func (v VideoConfig) validate() error {
	if v.Width < 2 || v.Height < 2 || v.Width%2 != 0 || v.Height%2 != 0 || v.Width > 1920 && v.Height > 1920 {
		return fmt.Errorf("video size %dx%d is not supported", v.Width, v.Height)
	}
	if v.Framerate < 1 || v.Framerate > 60 || v.Bitrate < 1 {
		return fmt.Errorf("video framerate %g or bitrate %d is not supported", v.Framerate, v.Bitrate)
	}
	return nil
}

// Spec is one composition to run.
type Spec struct {
	ARN, StageARN string
	Layout        layout.Config
	// Outputs are the encoders: one per distinct encoder configuration,
	// each feeding its destinations.
	Outputs []Output
}

// Output is one encoder and the destinations it feeds.
type Output struct {
	Video        VideoConfig
	Destinations []DestinationSpec
}

// DestinationSpec names one destination.
type DestinationSpec struct {
	// ID is the composition's destination id (rtapi.Destination.Id).
	ID   string
	Dest Destination
}

// State is a lifecycle change of a composition (DestinationID "") or of
// one of its destinations.
type State struct {
	CompositionARN string
	DestinationID  string
	// State is an rtapi.CompositionState* or rtapi.DestinationState*
	// value.
	State  string
	Reason string
	At     time.Time
}
