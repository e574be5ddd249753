package channels_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestStreamKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createChannel(t, nil)
	chARN := created.Channel.Arn
	key := created.StreamKey

	// One key per channel.
	_, err := e.svc.CreateStreamKey(t.Context(), &ivsapi.CreateStreamKeyRequest{ChannelArn: chARN})
	requireQuota(t, err)

	got, err := e.svc.GetStreamKey(t.Context(), &ivsapi.GetStreamKeyRequest{Arn: key.Arn})
	require.NoError(t, err)
	assert.Equal(t, key, got.StreamKey)

	list, err := e.svc.ListStreamKeys(t.Context(), &ivsapi.ListStreamKeysRequest{ChannelArn: chARN})
	require.NoError(t, err)
	assert.Equal(t, []ivsapi.StreamKeySummary{{Arn: key.Arn, ChannelArn: chARN, Tags: map[string]string{}}}, list.StreamKeys)
	assert.Nil(t, list.NextToken)

	// Reset: delete, then create a new key with tags.
	require.NoError(t, e.svc.DeleteStreamKey(t.Context(), &ivsapi.DeleteStreamKeyRequest{Arn: key.Arn}))
	requireNotFound(t, e.svc.DeleteStreamKey(t.Context(), &ivsapi.DeleteStreamKeyRequest{Arn: key.Arn}), *key.Arn)
	_, err = e.svc.ChannelForStreamKey(t.Context(), *key.Value)
	requireNotFound(t, err, "")
	list, err = e.svc.ListStreamKeys(t.Context(), &ivsapi.ListStreamKeysRequest{ChannelArn: chARN})
	require.NoError(t, err)
	assert.Empty(t, list.StreamKeys)
	assert.NotNil(t, list.StreamKeys)

	fresh, err := e.svc.CreateStreamKey(t.Context(), &ivsapi.CreateStreamKeyRequest{ChannelArn: chARN, Tags: map[string]string{"t": "1"}})
	require.NoError(t, err)
	assert.NotEqual(t, *key.Value, *fresh.StreamKey.Value)
	assert.Equal(t, map[string]string{"t": "1"}, fresh.StreamKey.Tags)
	ch, err := e.svc.ChannelForStreamKey(t.Context(), *fresh.StreamKey.Value)
	require.NoError(t, err)
	assert.Equal(t, *chARN, *ch.Arn)

	// Unknown channels.
	_, err = e.svc.CreateStreamKey(t.Context(), &ivsapi.CreateStreamKeyRequest{ChannelArn: ptr(missingARN("channel"))})
	requireNotFound(t, err, "channel/doesNotExist")
	_, err = e.svc.ListStreamKeys(t.Context(), &ivsapi.ListStreamKeysRequest{ChannelArn: ptr(missingARN("channel"))})
	requireNotFound(t, err, "channel/doesNotExist")
	_, err = e.svc.GetStreamKey(t.Context(), &ivsapi.GetStreamKeyRequest{Arn: ptr(missingARN("stream-key"))})
	requireNotFound(t, err, "stream-key/doesNotExist")
	// A channel ARN is not a stream key.
	_, err = e.svc.GetStreamKey(t.Context(), &ivsapi.GetStreamKeyRequest{Arn: chARN})
	requireNotFound(t, err, "")
}

func TestCreateStreamKeyConcurrentQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createChannel(t, nil)
	require.NoError(t, e.svc.DeleteStreamKey(t.Context(), &ivsapi.DeleteStreamKeyRequest{Arn: created.StreamKey.Arn}))

	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			_, errs[i] = e.svc.CreateStreamKey(t.Context(), &ivsapi.CreateStreamKeyRequest{ChannelArn: created.Channel.Arn})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		assert.Contains(t, []string{"Quota", "Conflict"}, errorKind(err))
	}
	assert.Equal(t, 1, ok)
	n, err := e.store.Count(t.Context(), "stream-key", *created.Channel.Arn)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestBatchGetStreamKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createChannel(t, nil).StreamKey
	b := e.createChannel(t, nil).StreamKey
	missing := missingARN("stream-key")
	out, err := e.svc.BatchGetStreamKey(t.Context(), &ivsapi.BatchGetStreamKeyRequest{Arns: []string{missing, *a.Arn, *b.Arn}})
	require.NoError(t, err)
	assert.Equal(t, []ivsapi.StreamKey{*a, *b}, out.StreamKeys)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, ivsapi.BatchError{Arn: ptr(missing), Code: ptr("ResourceNotFoundException"), Message: ptr("Resource: " + missing + " not found")}, out.Errors[0])
}

func TestChannelForStreamKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("ingest-me")})
	value := *created.StreamKey.Value

	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{name: "known key", value: value},
		{name: "empty key", value: "", wantErr: "NotFound"},
		{name: "unknown key", value: "sk_us-east-1_nope", wantErr: "NotFound"},
		{name: "prefix of a key", value: value[:len(value)-1], wantErr: "NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch, err := e.svc.ChannelForStreamKey(t.Context(), tc.value)
			require.Equal(t, tc.wantErr, errorKind(err))
			if tc.wantErr != "" {
				// The error never repeats the key.
				if tc.value != "" {
					assert.NotContains(t, err.Error(), tc.value)
				}
				return
			}
			assert.Equal(t, created.Channel, ch)
		})
	}
}
