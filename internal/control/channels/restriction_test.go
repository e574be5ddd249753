package channels_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestPlaybackRestrictionPolicyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	created, err := e.svc.CreatePlaybackRestrictionPolicy(t.Context(), &ivsapi.CreatePlaybackRestrictionPolicyRequest{})
	require.NoError(t, err)
	p := created.PlaybackRestrictionPolicy
	assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:playback-restriction-policy/[a-zA-Z0-9]{12}$`, *p.Arn)
	assert.Equal(t, &ivsapi.PlaybackRestrictionPolicy{
		Arn: p.Arn, Name: ptr(""), AllowedCountries: []string{}, AllowedOrigins: []string{},
		EnableStrictOriginEnforcement: ptr(false), Tags: map[string]string{},
	}, p)

	// Partial updates leave the other members alone.
	tests := []struct {
		name string
		in   ivsapi.UpdatePlaybackRestrictionPolicyRequest
		want ivsapi.PlaybackRestrictionPolicy
	}{
		{
			name: "countries", in: ivsapi.UpdatePlaybackRestrictionPolicyRequest{AllowedCountries: []string{"US", "FR"}},
			want: ivsapi.PlaybackRestrictionPolicy{Name: ptr(""), AllowedCountries: []string{"US", "FR"}, AllowedOrigins: []string{}, EnableStrictOriginEnforcement: ptr(false)},
		},
		{
			name: "origins and name", in: ivsapi.UpdatePlaybackRestrictionPolicyRequest{Name: ptr("geo"), AllowedOrigins: []string{"https://example.com"}},
			want: ivsapi.PlaybackRestrictionPolicy{Name: ptr("geo"), AllowedCountries: []string{"US", "FR"}, AllowedOrigins: []string{"https://example.com"}, EnableStrictOriginEnforcement: ptr(false)},
		},
		{
			name: "strict origin", in: ivsapi.UpdatePlaybackRestrictionPolicyRequest{EnableStrictOriginEnforcement: ptr(true)},
			want: ivsapi.PlaybackRestrictionPolicy{Name: ptr("geo"), AllowedCountries: []string{"US", "FR"}, AllowedOrigins: []string{"https://example.com"}, EnableStrictOriginEnforcement: ptr(true)},
		},
		{
			name: "clear countries", in: ivsapi.UpdatePlaybackRestrictionPolicyRequest{AllowedCountries: []string{}},
			want: ivsapi.PlaybackRestrictionPolicy{Name: ptr("geo"), AllowedCountries: []string{}, AllowedOrigins: []string{"https://example.com"}, EnableStrictOriginEnforcement: ptr(true)},
		},
	}
	for _, tc := range tests { // sequential: each step builds on the previous one
		tc.in.Arn = p.Arn
		out, err := e.svc.UpdatePlaybackRestrictionPolicy(t.Context(), &tc.in)
		require.NoError(t, err, tc.name)
		tc.want.Arn, tc.want.Tags = p.Arn, map[string]string{}
		assert.Equal(t, &tc.want, out.PlaybackRestrictionPolicy, tc.name)
		got, err := e.svc.GetPlaybackRestrictionPolicy(t.Context(), &ivsapi.GetPlaybackRestrictionPolicyRequest{Arn: p.Arn})
		require.NoError(t, err)
		assert.Equal(t, out.PlaybackRestrictionPolicy, got.PlaybackRestrictionPolicy, tc.name)
	}

	_, err = e.svc.UpdatePlaybackRestrictionPolicy(t.Context(), &ivsapi.UpdatePlaybackRestrictionPolicyRequest{Arn: ptr(missingARN("playback-restriction-policy"))})
	requireNotFound(t, err, "playback-restriction-policy/doesNotExist")

	// Referenced by a channel: 409 until the channel lets go.
	ch := e.createChannel(t, &ivsapi.CreateChannelRequest{PlaybackRestrictionPolicyArn: p.Arn}).Channel
	requireConflict(t, e.svc.DeletePlaybackRestrictionPolicy(t.Context(), &ivsapi.DeletePlaybackRestrictionPolicyRequest{Arn: p.Arn}))
	require.NoError(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: ch.Arn}))
	require.NoError(t, e.svc.DeletePlaybackRestrictionPolicy(t.Context(), &ivsapi.DeletePlaybackRestrictionPolicyRequest{Arn: p.Arn}))
	_, err = e.svc.GetPlaybackRestrictionPolicy(t.Context(), &ivsapi.GetPlaybackRestrictionPolicyRequest{Arn: p.Arn})
	requireNotFound(t, err, *p.Arn)
}

func TestListPlaybackRestrictionPoliciesDefaultPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.createRestriction(t), e.createRestriction(t)

	// The model documents a default page size of 1.
	out, err := e.svc.ListPlaybackRestrictionPolicies(t.Context(), &ivsapi.ListPlaybackRestrictionPoliciesRequest{})
	require.NoError(t, err)
	require.Len(t, out.PlaybackRestrictionPolicies, 1)
	assert.Equal(t, a, *out.PlaybackRestrictionPolicies[0].Arn)
	require.NotNil(t, out.NextToken)
	out, err = e.svc.ListPlaybackRestrictionPolicies(t.Context(), &ivsapi.ListPlaybackRestrictionPoliciesRequest{NextToken: out.NextToken})
	require.NoError(t, err)
	require.Len(t, out.PlaybackRestrictionPolicies, 1)
	assert.Equal(t, b, *out.PlaybackRestrictionPolicies[0].Arn)
	assert.Nil(t, out.NextToken)

	out, err = e.svc.ListPlaybackRestrictionPolicies(t.Context(), &ivsapi.ListPlaybackRestrictionPoliciesRequest{MaxResults: ptr(int64(100))})
	require.NoError(t, err)
	require.Len(t, out.PlaybackRestrictionPolicies, 2)
	s := out.PlaybackRestrictionPolicies[1]
	assert.Equal(t, []string{}, s.AllowedCountries)
	assert.Equal(t, []string{}, s.AllowedOrigins)
	assert.False(t, *s.EnableStrictOriginEnforcement)
}
