package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/compose"
	"github.com/stagecast/stagecast/internal/live"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/obs"
	"github.com/stagecast/stagecast/internal/recording"
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
		return a.s3Destination(ctx, c, d)
	}
	return nil, errors.New("destination has neither channel nor s3")
}

// s3Destination records a composition into its storage configuration's
// bucket (recording.Manager.StartComposite) under the destination's
// recordingPrefix ("<stage id>/<composition id>/<destination id>/composite").
func (a *App) s3Destination(ctx context.Context, c *rtapi.Composition, d rtapi.Destination) (compose.Destination, error) {
	if a.recorder == nil {
		return nil, errors.New("s3 destinations need the recorder on this server")
	}
	s3 := d.Configuration.S3
	if s3.StorageConfigurationArn == nil {
		return nil, errors.New("s3 destination has no storage configuration")
	}
	out, err := a.Stages.GetStorageConfiguration(ctx, &rtapi.GetStorageConfigurationRequest{Arn: s3.StorageConfigurationArn})
	if err != nil {
		return nil, fmt.Errorf("storage configuration: %w", err)
	}
	sc := out.StorageConfiguration
	if sc == nil || sc.S3 == nil || sc.S3.BucketName == nil {
		return nil, errors.New("storage configuration has no s3 bucket")
	}
	in := recording.CompositeInfo{Bucket: *sc.S3.BucketName}
	if c.Arn != nil {
		in.CompositionARN = *c.Arn
	}
	if c.StageArn != nil {
		in.StageARN = *c.StageArn
	}
	if d.Id != nil {
		in.DestinationID = *d.Id
	}
	if d.Detail != nil && d.Detail.S3 != nil && d.Detail.S3.RecordingPrefix != nil {
		in.Prefix = *d.Detail.S3.RecordingPrefix
	} else {
		in.Prefix = model.ResourceID(in.StageARN) + "/" + model.ResourceID(in.CompositionARN) + "/" + in.DestinationID + "/composite"
	}
	if rc := s3.RecordingConfiguration; rc != nil && rc.HlsConfiguration != nil && rc.HlsConfiguration.TargetSegmentDurationSeconds != nil {
		in.SegmentDuration = time.Duration(*rc.HlsConfiguration.TargetSegmentDurationSeconds) * time.Second
	}
	if len(s3.ThumbnailConfigurations) > 0 {
		tc := s3.ThumbnailConfigurations[0]
		th := &recording.CompositeThumbnails{Sequential: len(tc.Storage) == 0}
		if tc.TargetIntervalSeconds != nil {
			th.Every = time.Duration(*tc.TargetIntervalSeconds) * time.Second
		}
		for _, s := range tc.Storage {
			th.Sequential = th.Sequential || s == rtapi.ThumbnailStorageTypeSequential
			th.Latest = th.Latest || s == rtapi.ThumbnailStorageTypeLatest
		}
		in.Thumbnails = th
	}
	return s3Recording{rec: a.recorder, info: in}, nil
}

// s3Recording starts one composite recording per delivery.
type s3Recording struct {
	rec  *recording.Manager
	info recording.CompositeInfo
}

func (d s3Recording) Start(ctx context.Context, tracks []media.Track) (compose.Writer, error) {
	in := d.info
	in.Tracks = tracks
	return d.rec.StartComposite(ctx, in)
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
