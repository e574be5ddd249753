package channels_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestStreamOperationsOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.createChannel(t, nil).Channel.Arn
	missing := ptr(missingARN("channel"))

	tests := []struct {
		name string
		call func(ch *string) error
	}{
		{"GetStream", func(ch *string) error {
			_, err := e.svc.GetStream(t.Context(), &ivsapi.GetStreamRequest{ChannelArn: ch})
			return err
		}},
		{"StopStream", func(ch *string) error {
			_, err := e.svc.StopStream(t.Context(), &ivsapi.StopStreamRequest{ChannelArn: ch})
			return err
		}},
		{"PutMetadata", func(ch *string) error {
			return e.svc.PutMetadata(t.Context(), &ivsapi.PutMetadataRequest{ChannelArn: ch, Metadata: ptr("hello")})
		}},
		{"InsertAdBreak", func(ch *string) error {
			_, err := e.svc.InsertAdBreak(t.Context(), &ivsapi.InsertAdBreakRequest{ChannelArn: ch, DurationSeconds: ptr(int64(30))})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireNotBroadcasting(t, tc.call(arn))
			requireNotFound(t, tc.call(missing), *missing)
		})
	}
}

func TestStreamOperationsWithoutLiveState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.SetLive(nil)
	arn := e.createChannel(t, nil).Channel.Arn
	_, err := e.svc.GetStream(t.Context(), &ivsapi.GetStreamRequest{ChannelArn: arn})
	requireNotBroadcasting(t, err)
	out, err := e.svc.ListStreams(t.Context(), &ivsapi.ListStreamsRequest{})
	require.NoError(t, err)
	assert.NotNil(t, out.Streams)
	assert.Empty(t, out.Streams)
	require.NoError(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: arn}))
}

func TestLiveStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.createChannel(t, nil).Channel.Arn
	st := e.live.GoLive(*arn, "HEALTHY")

	got, err := e.svc.GetStream(t.Context(), &ivsapi.GetStreamRequest{ChannelArn: arn})
	require.NoError(t, err)
	assert.Equal(t, st.StreamId, got.Stream.StreamId)
	assert.Equal(t, "LIVE", *got.Stream.State)
	assert.Equal(t, *arn, *got.Stream.ChannelArn)
	// The playback URL is filled from the channel when the live side leaves it out.
	assert.Contains(t, *got.Stream.PlaybackUrl, ".m3u8")

	require.NoError(t, e.svc.PutMetadata(t.Context(), &ivsapi.PutMetadataRequest{ChannelArn: arn, Metadata: ptr("cue")}))
	assert.Equal(t, []string{"cue"}, e.live.metadata[*arn])

	_, err = e.svc.InsertAdBreak(t.Context(), &ivsapi.InsertAdBreakRequest{ChannelArn: arn, DurationSeconds: ptr(int64(30))})
	requireConflict(t, err)
	assert.Contains(t, err.Error(), "ad insertion is not supported")

	_, err = e.svc.StopStream(t.Context(), &ivsapi.StopStreamRequest{ChannelArn: arn})
	require.NoError(t, err)
	assert.Equal(t, []string{*arn}, e.live.stopped)
	_, err = e.svc.GetStream(t.Context(), &ivsapi.GetStreamRequest{ChannelArn: arn})
	requireNotBroadcasting(t, err)
}

func TestPutMetadataLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createChannel(t, nil).Channel.Arn
	b := e.createChannel(t, nil).Channel.Arn
	e.live.GoLive(*a, "HEALTHY")
	e.live.GoLive(*b, "HEALTHY")
	put := func(ch *string, payload string) error {
		return e.svc.PutMetadata(t.Context(), &ivsapi.PutMetadataRequest{ChannelArn: ch, Metadata: ptr(payload)})
	}

	require.NoError(t, put(a, strings.Repeat("x", 1024)))
	requireValidation(t, put(a, strings.Repeat("x", 1025)))
	// Multi-byte characters count in bytes.
	requireValidation(t, put(a, strings.Repeat("é", 513)))

	// 5 TPS per channel: four more fit in this second, the sixth is throttled.
	for range 4 {
		require.NoError(t, put(a, "m"))
	}
	assert.Equal(t, "Throttled", errorKind(put(a, "m")))
	// Other channels have their own budget.
	require.NoError(t, put(b, "m"))
	// Tokens come back with time.
	e.clock.Advance(200 * time.Millisecond)
	require.NoError(t, put(a, "m"))
	assert.Equal(t, "Throttled", errorKind(put(a, "m")))
	e.clock.Advance(time.Second)
	for range 5 {
		require.NoError(t, put(a, "m"))
	}
}

func TestListStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var live []string
	for i := range 7 {
		arn := *e.createChannel(t, nil).Channel.Arn
		if i%2 == 0 {
			health := "HEALTHY"
			if i == 4 {
				health = "STARVING"
			}
			e.live.GoLive(arn, health)
			live = append(live, arn)
		}
	}

	// Pages of 2 walk every live stream once, in channel order.
	var got []string
	var token *string
	pages := 0
	for {
		out, err := e.svc.ListStreams(t.Context(), &ivsapi.ListStreamsRequest{MaxResults: ptr(int64(2)), NextToken: token})
		require.NoError(t, err)
		pages++
		for _, s := range out.Streams {
			got = append(got, *s.ChannelArn)
			assert.Equal(t, "LIVE", *s.State)
			assert.NotNil(t, s.StreamId)
			assert.Equal(t, int64(7), *s.ViewerCount)
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	assert.Equal(t, live, got)
	assert.Equal(t, 2, pages)

	out, err := e.svc.ListStreams(t.Context(), &ivsapi.ListStreamsRequest{FilterBy: &ivsapi.StreamFilters{Health: ptr("STARVING")}})
	require.NoError(t, err)
	require.Len(t, out.Streams, 1)
	assert.Equal(t, live[2], *out.Streams[0].ChannelArn)
	assert.Nil(t, out.NextToken)
}
