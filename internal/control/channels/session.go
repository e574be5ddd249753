package channels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store"
)

// maxTruncatedEvents is the model's limit on StreamSession.truncatedEvents.
const maxTruncatedEvents = 500

// StreamSessionDoc is the stored stream session of a channel (kind
// stream-session, Parent = the channel ARN, so it is deleted with the
// channel). The ingest side writes it with RecordStreamSession when a
// stream starts and whenever it changes (end time, events).
type StreamSessionDoc struct {
	ivsapi.StreamSession
	// HasErrorEvent is shown in ListStreamSessions: the stream hit a quota
	// breach or a failure.
	HasErrorEvent bool `json:"hasErrorEvent,omitempty"`
}

// sessionKey is the store key of a channel's session.
func sessionKey(channelARN, streamID string) string {
	return channelARN + "/stream-session/" + streamID
}

// RecordStreamSession inserts or replaces the session doc.StreamId of the
// channel. The channel must exist. Times are stored in UTC; truncatedEvents
// is cut to the newest 500 (the list is newest first).
func (s *Service) RecordStreamSession(ctx context.Context, channelARN string, doc *StreamSessionDoc) error {
	if doc == nil || str(doc.StreamId) == "" || !strings.HasPrefix(*doc.StreamId, "st-") {
		return errors.New("record stream session: stream id must be set (st-...)")
	}
	if _, err := s.channels.Get(ctx, channelARN); err != nil {
		return err
	}
	d := *doc
	d.StartTime = utc(d.StartTime)
	d.EndTime = utc(d.EndTime)
	if len(d.TruncatedEvents) > maxTruncatedEvents {
		d.TruncatedEvents = d.TruncatedEvents[:maxTruncatedEvents]
	}
	if len(d.TruncatedEvents) > 0 {
		events := make([]ivsapi.StreamEvent, len(d.TruncatedEvents))
		for i, e := range d.TruncatedEvents {
			e.EventTime = utc(e.EventTime)
			events[i] = e
		}
		d.TruncatedEvents = events
	}
	rec, err := newRecord(store.KindStreamSession, sessionKey(channelARN, *d.StreamId), channelARN, &d, nil)
	if err != nil {
		return err
	}
	if err := s.d.Store.Apply(ctx, store.Op{Type: store.OpPut, Record: rec}); err != nil {
		return fmt.Errorf("record stream session %s: %w", *d.StreamId, err)
	}
	return nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// GetStreamSession implements ivsapi.Service. Without streamId it returns
// the channel's most recent session.
func (s *Service) GetStreamSession(ctx context.Context, in *ivsapi.GetStreamSessionRequest) (*ivsapi.GetStreamSessionResponse, error) {
	channelARN := str(in.ChannelArn)
	if _, err := s.channels.Get(ctx, channelARN); err != nil {
		return nil, err
	}
	var doc *StreamSessionDoc
	if id := str(in.StreamId); id != "" {
		it, err := s.sessions.Get(ctx, sessionKey(channelARN, id))
		var nf *model.NotFoundError
		if errors.As(err, &nf) {
			return nil, model.NotFound(fmt.Sprintf("stream session %s of channel %s", id, channelARN))
		}
		if err != nil {
			return nil, err
		}
		doc = it.Doc
	} else {
		page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindStreamSession, Parent: channelARN, Limit: 1, Descending: true})
		if err != nil {
			return nil, fmt.Errorf("list stream sessions: %w", err)
		}
		if len(page.Records) == 0 {
			return nil, model.NotFound(fmt.Sprintf("stream session of channel %s", channelARN))
		}
		if doc, err = control.Decode[StreamSessionDoc](page.Records[0]); err != nil {
			return nil, err
		}
	}
	ss := doc.StreamSession
	return &ivsapi.GetStreamSessionResponse{StreamSession: &ss}, nil
}

// ListStreamSessions implements ivsapi.Service, newest session first.
func (s *Service) ListStreamSessions(ctx context.Context, in *ivsapi.ListStreamSessionsRequest) (*ivsapi.ListStreamSessionsResponse, error) {
	channelARN := str(in.ChannelArn)
	if _, err := s.channels.Get(ctx, channelARN); err != nil {
		return nil, err
	}
	items, next, err := s.sessions.List(ctx, store.Query{Parent: channelARN, Descending: true}, in.NextToken, in.MaxResults, defaultSessionPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListStreamSessionsResponse{StreamSessions: make([]ivsapi.StreamSessionSummary, 0, len(items)), NextToken: next}
	for _, it := range items {
		out.StreamSessions = append(out.StreamSessions, ivsapi.StreamSessionSummary{
			StreamId:      it.Doc.StreamId,
			StartTime:     it.Doc.StartTime,
			EndTime:       it.Doc.EndTime,
			HasErrorEvent: ptr(it.Doc.HasErrorEvent),
		})
	}
	return out, nil
}
