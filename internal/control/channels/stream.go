package channels

import (
	"context"
	"fmt"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// liveChannel loads the channel and returns the live state when it is
// broadcasting: ResourceNotFoundException when the channel does not exist,
// ChannelNotBroadcasting when it is offline.
func (s *Service) liveChannel(ctx context.Context, arn string) (control.Item[channelDoc], LiveState, error) {
	it, err := s.channels.Get(ctx, arn)
	if err != nil {
		return it, nil, err
	}
	ls := s.liveState()
	if ls == nil || !ls.IsLive(arn) {
		return it, nil, &model.NotBroadcastingError{Channel: arn}
	}
	return it, ls, nil
}

// streamOf returns the channel's live stream with the fields the live side
// left empty filled in from the channel.
func (s *Service) streamOf(ls LiveState, arn string) (*ivsapi.Stream, bool) {
	st, ok := ls.Stream(arn)
	if !ok || st == nil {
		return nil, false
	}
	out := *st
	if out.ChannelArn == nil {
		out.ChannelArn = ptr(arn)
	}
	if out.PlaybackUrl == nil {
		out.PlaybackUrl = ptr(s.d.Identity.PlaybackURL(model.ResourceID(arn)))
	}
	if out.State == nil {
		out.State = ptr(ivsapi.StreamStateLive)
	}
	if out.Health == nil {
		out.Health = ptr(ivsapi.StreamHealthUnknown)
	}
	return &out, true
}

// GetStream implements ivsapi.Service.
func (s *Service) GetStream(ctx context.Context, in *ivsapi.GetStreamRequest) (*ivsapi.GetStreamResponse, error) {
	arn := str(in.ChannelArn)
	_, ls, err := s.liveChannel(ctx, arn)
	if err != nil {
		return nil, err
	}
	st, ok := s.streamOf(ls, arn)
	if !ok {
		return nil, &model.NotBroadcastingError{Channel: arn}
	}
	return &ivsapi.GetStreamResponse{Stream: st}, nil
}

// ListStreams implements ivsapi.Service: the live streams, in channel
// creation order, optionally filtered by health. The page token is the
// position of the last channel returned.
func (s *Service) ListStreams(ctx context.Context, in *ivsapi.ListStreamsRequest) (*ivsapi.ListStreamsResponse, error) {
	after, err := control.DecodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := defaultStreamPage
	if in.MaxResults != nil && *in.MaxResults > 0 {
		limit = int(*in.MaxResults)
	}
	var health string
	if in.FilterBy != nil {
		health = str(in.FilterBy.Health)
	}
	out := &ivsapi.ListStreamsResponse{Streams: []ivsapi.StreamSummary{}}
	ls := s.liveState()
	if ls == nil {
		return out, nil
	}
	// Walk the channels in pages, keeping the live ones, until one more
	// than a page of streams is found (to know whether to hand a token).
	const scanPage = 500
	var lastSeq int64
	for {
		page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindChannel, AfterSeq: after, Limit: scanPage})
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		for _, rec := range page.Records {
			after = rec.Seq
			if !ls.IsLive(rec.Key) {
				continue
			}
			st, ok := s.streamOf(ls, rec.Key)
			if !ok || (health != "" && str(st.Health) != health) {
				continue
			}
			if len(out.Streams) == limit {
				tok := control.EncodeToken(lastSeq)
				out.NextToken = &tok
				return out, nil
			}
			out.Streams = append(out.Streams, ivsapi.StreamSummary{
				ChannelArn:  st.ChannelArn,
				StreamId:    st.StreamId,
				State:       st.State,
				Health:      st.Health,
				ViewerCount: st.ViewerCount,
				StartTime:   st.StartTime,
			})
			lastSeq = rec.Seq
		}
		if !page.More {
			return out, nil
		}
	}
}

// StopStream implements ivsapi.Service.
func (s *Service) StopStream(ctx context.Context, in *ivsapi.StopStreamRequest) (*ivsapi.StopStreamResponse, error) {
	arn := str(in.ChannelArn)
	_, ls, err := s.liveChannel(ctx, arn)
	if err != nil {
		return nil, err
	}
	if err := ls.Stop(ctx, arn); err != nil {
		return nil, err
	}
	return &ivsapi.StopStreamResponse{}, nil
}

// PutMetadata implements ivsapi.Service: at most MaxMetadataBytes per call,
// MetadataTPSPerChannel per channel and MetadataTPSPerAccount overall.
func (s *Service) PutMetadata(ctx context.Context, in *ivsapi.PutMetadataRequest) error {
	arn := str(in.ChannelArn)
	payload := str(in.Metadata)
	if len(payload) > MaxMetadataBytes {
		return wire.Invalid("metadata", fmt.Sprintf("Member must have length less than or equal to %d bytes", MaxMetadataBytes))
	}
	_, ls, err := s.liveChannel(ctx, arn)
	if err != nil {
		return err
	}
	if !s.limiter.allow(arn, s.d.Clock()) {
		return &model.ThrottledError{Msg: fmt.Sprintf("PutMetadata rate exceeded for channel %s (limit %d TPS per channel, %d TPS per account)", arn, MetadataTPSPerChannel, MetadataTPSPerAccount)}
	}
	return ls.PutMetadata(ctx, arn, payload)
}

// InsertAdBreak implements ivsapi.Service. Server-side ad insertion needs
// AWS Elemental MediaTailor, which Stagecast does not have: on a live
// channel the call fails with ConflictException rather than pretending to
// have inserted an ad break.
func (s *Service) InsertAdBreak(ctx context.Context, in *ivsapi.InsertAdBreakRequest) (*ivsapi.InsertAdBreakResponse, error) {
	if _, _, err := s.liveChannel(ctx, str(in.ChannelArn)); err != nil {
		return nil, err
	}
	return nil, model.Conflict("ad insertion is not supported by this server")
}
