package channels_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestTagsOnEveryResourceType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createChannel(t, nil)
	material, _ := p384PEM(t)
	kp, err := e.svc.ImportPlaybackKeyPair(t.Context(), &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: &material})
	require.NoError(t, err)

	arns := map[string]string{
		"channel":                     *created.Channel.Arn,
		"stream-key":                  *created.StreamKey.Arn,
		"playback-key":                *kp.KeyPair.Arn,
		"recording-configuration":     e.createRecording(t),
		"playback-restriction-policy": e.createRestriction(t),
		"ad-configuration":            e.createAdConfig(t),
	}
	for typ, arn := range arns {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			_, err := e.svc.TagResource(t.Context(), &ivsapi.TagResourceRequest{ResourceArn: &arn, Tags: map[string]string{"a": "1", "b": "2"}})
			require.NoError(t, err)
			_, err = e.svc.TagResource(t.Context(), &ivsapi.TagResourceRequest{ResourceArn: &arn, Tags: map[string]string{"b": "3"}})
			require.NoError(t, err)
			out, err := e.svc.ListTagsForResource(t.Context(), &ivsapi.ListTagsForResourceRequest{ResourceArn: &arn})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"a": "1", "b": "3"}, out.Tags)

			_, err = e.svc.UntagResource(t.Context(), &ivsapi.UntagResourceRequest{ResourceArn: &arn, TagKeys: []string{"a", "missing"}})
			require.NoError(t, err)
			out, err = e.svc.ListTagsForResource(t.Context(), &ivsapi.ListTagsForResourceRequest{ResourceArn: &arn})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"b": "3"}, out.Tags)
		})
	}
}

func TestTagErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := *e.createChannel(t, nil).Channel.Arn
	streamID := "st-" + strings.Repeat("a", 23)
	require.NoError(t, e.svc.RecordStreamSession(t.Context(), arn, session(streamID, 0)))
	n, err := e.store.Count(t.Context(), "stream-session", arn)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	tests := []struct {
		name    string
		arn     string
		tags    map[string]string
		wantErr string
	}{
		{name: "unknown channel", arn: missingARN("channel"), tags: map[string]string{"a": "b"}, wantErr: "NotFound"},
		{name: "realtime resource type", arn: testIdentity.ARN("stage", "abc"), tags: map[string]string{"a": "b"}, wantErr: "NotFound"},
		{name: "internal record is not taggable", arn: arn + "/stream-session/" + streamID, tags: map[string]string{"a": "b"}, wantErr: "NotFound"},
		{name: "more than 50 tags", arn: arn, tags: manyTags(51), wantErr: "Validation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.svc.TagResource(t.Context(), &ivsapi.TagResourceRequest{ResourceArn: &tc.arn, Tags: tc.tags})
			assert.Equal(t, tc.wantErr, errorKind(err))
		})
	}
	_, err = e.svc.ListTagsForResource(t.Context(), &ivsapi.ListTagsForResourceRequest{ResourceArn: ptr(missingARN("ad-configuration"))})
	requireNotFound(t, err, "ad-configuration/doesNotExist")
}

func manyTags(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}
