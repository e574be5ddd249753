package channels_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestViewerSessionRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.createChannel(t, nil).Channel.Arn
	other := e.createChannel(t, nil).Channel.Arn

	revoked := func(ch *string, viewer string) (int64, bool) {
		t.Helper()
		v, ok, err := e.svc.RevokedViewerVersion(t.Context(), *ch, viewer)
		require.NoError(t, err)
		return v, ok
	}

	_, ok := revoked(arn, "alice")
	assert.False(t, ok)

	// Default version 0.
	_, err := e.svc.StartViewerSessionRevocation(t.Context(), &ivsapi.StartViewerSessionRevocationRequest{ChannelArn: arn, ViewerId: ptr("alice")})
	require.NoError(t, err)
	v, ok := revoked(arn, "alice")
	assert.True(t, ok)
	assert.Equal(t, int64(0), v)

	// Versions only grow.
	for _, tc := range []struct {
		version, want int64
	}{{5, 5}, {3, 5}, {9, 9}} {
		_, err := e.svc.StartViewerSessionRevocation(t.Context(), &ivsapi.StartViewerSessionRevocationRequest{
			ChannelArn: arn, ViewerId: ptr("alice"), ViewerSessionVersionsLessThanOrEqualTo: ptr(tc.version),
		})
		require.NoError(t, err)
		v, _ := revoked(arn, "alice")
		assert.Equal(t, tc.want, v)
	}
	// Per channel and per viewer.
	_, ok = revoked(other, "alice")
	assert.False(t, ok)
	_, ok = revoked(arn, "bob")
	assert.False(t, ok)

	_, err = e.svc.StartViewerSessionRevocation(t.Context(), &ivsapi.StartViewerSessionRevocationRequest{ChannelArn: ptr(missingARN("channel")), ViewerId: ptr("alice")})
	requireNotFound(t, err, "channel/doesNotExist")
}

func TestBatchStartViewerSessionRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.createChannel(t, nil).Channel.Arn
	missing := missingARN("channel")

	out, err := e.svc.BatchStartViewerSessionRevocation(t.Context(), &ivsapi.BatchStartViewerSessionRevocationRequest{
		ViewerSessions: []ivsapi.BatchStartViewerSessionRevocationViewerSession{
			{ChannelArn: arn, ViewerId: ptr("v1"), ViewerSessionVersionsLessThanOrEqualTo: ptr(int64(2))},
			{ChannelArn: ptr(missing), ViewerId: ptr("v2")},
			{ChannelArn: arn, ViewerId: ptr("v3")},
		},
	})
	require.NoError(t, err)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, missing, *out.Errors[0].ChannelArn)
	assert.Equal(t, "v2", *out.Errors[0].ViewerId)
	assert.Equal(t, "ResourceNotFoundException", *out.Errors[0].Code)
	assert.Contains(t, *out.Errors[0].Message, missing)

	v, ok, err := e.svc.RevokedViewerVersion(t.Context(), *arn, "v1")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(2), v)
	_, ok, err = e.svc.RevokedViewerVersion(t.Context(), *arn, "v3")
	require.NoError(t, err)
	assert.True(t, ok)
}
