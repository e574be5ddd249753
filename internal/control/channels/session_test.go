package channels_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

var sessionEpoch = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// session builds a session that started n hours after sessionEpoch.
func session(id string, n int) *channels.StreamSessionDoc {
	return &channels.StreamSessionDoc{StreamSession: ivsapi.StreamSession{
		StreamId:  ptr(id),
		StartTime: ptr(sessionEpoch.Add(time.Duration(n) * time.Hour)),
	}}
}

func TestStreamSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.createChannel(t, nil).Channel
	arn := *ch.Arn

	// No session yet.
	_, err := e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: &arn})
	requireNotFound(t, err, arn)
	list, err := e.svc.ListStreamSessions(t.Context(), &ivsapi.ListStreamSessionsRequest{ChannelArn: &arn})
	require.NoError(t, err)
	assert.NotNil(t, list.StreamSessions)
	assert.Empty(t, list.StreamSessions)

	ids := []string{model.NewStreamID(), model.NewStreamID(), model.NewStreamID()}
	for i, id := range ids {
		require.NoError(t, e.svc.RecordStreamSession(t.Context(), arn, session(id, i)))
	}
	// The first session ends later, with an error event: an upsert keeps its place.
	first := session(ids[0], 0)
	first.EndTime = ptr(sessionEpoch.Add(30 * time.Minute).In(time.FixedZone("X", 3600)))
	first.Channel = ch
	first.HasErrorEvent = true
	first.TruncatedEvents = []ivsapi.StreamEvent{{Name: ptr("Stream Failure"), Type: ptr("IVS Stream State Change"), EventTime: first.EndTime}}
	require.NoError(t, e.svc.RecordStreamSession(t.Context(), arn, first))

	// Without streamId: the most recent session.
	got, err := e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, ids[2], *got.StreamSession.StreamId)

	got, err = e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: &arn, StreamId: &ids[0]})
	require.NoError(t, err)
	assert.Equal(t, ch, got.StreamSession.Channel)
	assert.Equal(t, time.UTC, got.StreamSession.EndTime.Location())
	assert.True(t, got.StreamSession.EndTime.Equal(sessionEpoch.Add(30*time.Minute)))
	require.Len(t, got.StreamSession.TruncatedEvents, 1)
	assert.Equal(t, "Stream Failure", *got.StreamSession.TruncatedEvents[0].Name)

	_, err = e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: &arn, StreamId: ptr("st-unknown")})
	requireNotFound(t, err, "st-unknown")
	_, err = e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: ptr(missingARN("channel"))})
	requireNotFound(t, err, "channel/doesNotExist")

	// Newest first, paginated.
	var order []string
	var token *string
	for {
		page, err := e.svc.ListStreamSessions(t.Context(), &ivsapi.ListStreamSessionsRequest{ChannelArn: &arn, MaxResults: ptr(int64(2)), NextToken: token})
		require.NoError(t, err)
		for _, s := range page.StreamSessions {
			order = append(order, *s.StreamId)
			require.NotNil(t, s.StartTime)
			require.NotNil(t, s.HasErrorEvent)
			assert.Equal(t, *s.StreamId == ids[0], *s.HasErrorEvent)
			assert.Equal(t, *s.StreamId == ids[0], s.EndTime != nil)
		}
		if page.NextToken == nil {
			break
		}
		token = page.NextToken
	}
	assert.Equal(t, []string{ids[2], ids[1], ids[0]}, order)

	// Sessions belong to one channel.
	other := *e.createChannel(t, nil).Channel.Arn
	_, err = e.svc.GetStreamSession(t.Context(), &ivsapi.GetStreamSessionRequest{ChannelArn: &other, StreamId: &ids[0]})
	requireNotFound(t, err, "")
}

func TestRecordStreamSessionRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := *e.createChannel(t, nil).Channel.Arn
	tests := []struct {
		name    string
		channel string
		doc     *channels.StreamSessionDoc
		wantErr string
	}{
		{name: "nil doc", channel: arn, doc: nil, wantErr: "other"},
		{name: "no stream id", channel: arn, doc: &channels.StreamSessionDoc{}, wantErr: "other"},
		{name: "bad stream id", channel: arn, doc: session("abc", 0), wantErr: "other"},
		{name: "missing channel", channel: missingARN("channel"), doc: session(model.NewStreamID(), 0), wantErr: "NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := e.svc.RecordStreamSession(t.Context(), tc.channel, tc.doc)
			require.Error(t, err)
			kind := errorKind(err)
			if len(kind) >= 5 && kind[:5] == "other" {
				kind = "other"
			}
			assert.Equal(t, tc.wantErr, kind)
		})
	}
}
