package app

import (
	"context"
	"errors"
	"sync"

	"github.com/stagecast/stagecast/internal/compose"
	"github.com/stagecast/stagecast/internal/live"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/obs"
	"github.com/stagecast/stagecast/internal/stream"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// wireCompose builds server-side composition (stages.SetCompositor): a
// compose.Composer reading the SFU, delivering channel destinations into
// the channel's live session (ingest.Internal) and reporting states to the
// stages service.
func (a *App) wireCompose(ctx context.Context) error {
	_ = ctx
	if a.SFU == nil {
		return nil // no stage media: compositions fail with the stages' reason
	}
	log := obs.Component(a.log, "compose")
	adapter := &sfuStages{srv: a.SFU}
	a.onClose(adapter.wait)
	composer := compose.New(compose.Options{
		Transcode: a.cfg.Transcode,
		Compose:   a.cfg.Compose,
		Stages:    adapter,
		EncoderConfig: func(ctx context.Context, arn string) (compose.VideoConfig, error) {
			out, err := a.Stages.GetEncoderConfiguration(ctx, &rtapi.GetEncoderConfigurationRequest{Arn: &arn})
			if err != nil {
				return compose.VideoConfig{}, err
			}
			return compose.VideoFromRTAPI(out.EncoderConfiguration.Video), nil
		},
		Destination: a.compositionDestination,
		OnState: func(s compose.State) {
			if s.DestinationID != "" {
				if s.State == rtapi.DestinationStateStarting {
					return
				}
				if err := a.Stages.SetDestinationState(context.Background(), s.CompositionARN, s.DestinationID, s.State, s.Reason); err != nil {
					log.Warn("record destination state", "composition_arn", s.CompositionARN, "destination_id", s.DestinationID, "state", s.State, "err", err)
				}
				return
			}
			if s.State == rtapi.CompositionStateStarting {
				return
			}
			if err := a.Stages.SetCompositionState(context.Background(), s.CompositionARN, s.State, s.Reason); err != nil {
				log.Warn("record composition state", "composition_arn", s.CompositionARN, "state", s.State, "err", err)
			}
		},
		Log: a.log,
	})
	a.goRun("composition", composer.Run)
	a.Stages.SetCompositor(composer)
	return nil
}

// compositionDestination builds one destination of a composition.
func (a *App) compositionDestination(ctx context.Context, c *rtapi.Composition, d rtapi.Destination) (compose.Destination, error) {
	cfg := d.Configuration
	switch {
	case cfg != nil && cfg.Channel != nil:
		if a.Live == nil {
			return nil, errors.New("channel destinations need live channels on this server")
		}
		return liveDestination{live: a.Live, channelARN: *cfg.Channel.ChannelArn}, nil
	case cfg != nil && cfg.S3 != nil:
		// TODO(compose-s3): the recording package records channels' live
		// sessions only. An S3 destination needs an entry point such as
		// recording.Manager.StartComposite(ctx, storageConfigurationARN,
		// prefix "<stageId>/<compositionId>/<destinationId>/composite",
		// tracks) returning a compose.Writer (Write, Done, Close).
		return nil, errors.New("s3 destinations are not supported by this server yet")
	}
	return nil, errors.New("destination has neither channel nor s3")
}

// liveDestination makes a composition the live stream of a channel
// (live.Manager.PublishInternal: no stream key, the same busy-channel rule
// as any publisher).
type liveDestination struct {
	live       *live.Manager
	channelARN string
}

func (d liveDestination) Start(ctx context.Context, tracks []media.Track) (compose.Writer, error) {
	return d.live.PublishInternal(ctx, d.channelARN, tracks)
}

// sfuStages adapts the SFU to compose.Stages. Its Watch goroutines end
// with their ctx; wait (run at App close, after the compositor stopped)
// waits for them.
type sfuStages struct {
	srv *sfu.Server
	wg  sync.WaitGroup
}

func (s *sfuStages) wait() { s.wg.Wait() }

// Watch turns the SFU's room events into publisher snapshots; only the
// latest snapshot is kept for a slow reader.
func (s *sfuStages) Watch(ctx context.Context, stageARN string) (<-chan []compose.Publisher, error) {
	events, cancel := s.srv.Watch(stageARN)
	out := make(chan []compose.Publisher, 1)
	s.wg.Go(func() {
		defer close(out)
		defer cancel()
		parts := map[string]sfu.ParticipantInfo{}
		// order numbers participants as they first appear: the SFU reports
		// those already there first, in join order (JoinedAt has only
		// second precision).
		order := map[string]int64{}
		var next int64
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				if _, ok := order[ev.Participant.ParticipantID]; !ok {
					order[ev.Participant.ParticipantID] = next
					next++
				}
				switch ev.Type {
				case sfu.RoomJoined:
					parts[ev.Participant.ParticipantID] = ev.Participant
				case sfu.RoomPublished:
					p := ev.Participant
					p.Published = true
					parts[p.ParticipantID] = p
				case sfu.RoomUnpublished:
					p := ev.Participant
					p.Published = false
					parts[p.ParticipantID] = p
				case sfu.RoomLeft:
					delete(parts, ev.Participant.ParticipantID)
					delete(order, ev.Participant.ParticipantID)
				}
				snap := publishers(parts, order)
				select { // replace an unread snapshot
				case <-out:
				default:
				}
				out <- snap
			}
		}
	})
	return out, nil
}

func publishers(parts map[string]sfu.ParticipantInfo, order map[string]int64) []compose.Publisher {
	var out []compose.Publisher
	for _, p := range parts {
		if !p.Published {
			continue
		}
		video := false
		for _, t := range p.Tracks {
			video = video || t.Kind == "video"
		}
		out = append(out, compose.Publisher{ParticipantID: p.ParticipantID, Attributes: p.Attributes,
			VideoStopped: p.VideoMuted || !video, AudioStopped: p.AudioMuted, Joined: order[p.ParticipantID]})
	}
	return out
}

// Subscribe implements compose.Stages.
func (s *sfuStages) Subscribe(_ context.Context, stageARN, participantID string) (compose.Source, error) {
	tracks, hub, err := s.srv.Subscribe(stageARN, participantID)
	if err != nil {
		return nil, err
	}
	return hubSource{Reader: hub.NewReader("compositor", 0), tracks: tracks}, nil
}

// RequestKeyFrame implements compose.Stages.
func (s *sfuStages) RequestKeyFrame(_ context.Context, stageARN, participantID string) error {
	return s.srv.RequestKeyFrame(stageARN, participantID)
}

// hubSource is a hub reader with its tracks.
type hubSource struct {
	*stream.Reader
	tracks []media.Track
}

func (h hubSource) Tracks() []media.Track { return h.tracks }
