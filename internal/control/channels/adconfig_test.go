package channels_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestAdConfigurationLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mt := func(id string) []ivsapi.MediaTailorPlaybackConfiguration {
		return []ivsapi.MediaTailorPlaybackConfiguration{{PlaybackConfigurationArn: ptr("arn:aws:mediatailor:us-east-1:123456789012:playbackConfiguration/" + id)}}
	}

	created, err := e.svc.CreateAdConfiguration(t.Context(), &ivsapi.CreateAdConfigurationRequest{MediaTailorPlaybackConfigurations: mt("one"), Tags: map[string]string{"a": "1"}})
	require.NoError(t, err)
	ad := created.AdConfiguration
	assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:ad-configuration/[a-zA-Z0-9]{12}$`, *ad.Arn)
	assert.Equal(t, &ivsapi.AdConfiguration{
		Arn: ad.Arn, Name: ptr(""), MediaTailorPlaybackConfigurations: mt("one"),
		PostRollConfiguration: &ivsapi.PostRollConfiguration{Enabled: ptr(false), DurationSeconds: ptr(int64(15))},
		Tags:                  map[string]string{"a": "1"},
	}, ad)

	got, err := e.svc.GetAdConfiguration(t.Context(), &ivsapi.GetAdConfigurationRequest{Arn: ad.Arn})
	require.NoError(t, err)
	assert.Equal(t, ad, got.AdConfiguration)

	// Partial update.
	up, err := e.svc.UpdateAdConfiguration(t.Context(), &ivsapi.UpdateAdConfigurationRequest{
		Arn: ad.Arn, Name: ptr("ads"), PostRollConfiguration: &ivsapi.PostRollConfiguration{Enabled: ptr(true), DurationSeconds: ptr(int64(60))},
	})
	require.NoError(t, err)
	assert.Equal(t, "ads", *up.AdConfiguration.Name)
	assert.Equal(t, mt("one"), up.AdConfiguration.MediaTailorPlaybackConfigurations)
	assert.Equal(t, &ivsapi.PostRollConfiguration{Enabled: ptr(true), DurationSeconds: ptr(int64(60))}, up.AdConfiguration.PostRollConfiguration)
	up, err = e.svc.UpdateAdConfiguration(t.Context(), &ivsapi.UpdateAdConfigurationRequest{Arn: ad.Arn, MediaTailorPlaybackConfigurations: mt("two")})
	require.NoError(t, err)
	assert.Equal(t, "ads", *up.AdConfiguration.Name)
	assert.Equal(t, mt("two"), up.AdConfiguration.MediaTailorPlaybackConfigurations)

	list, err := e.svc.ListAdConfigurations(t.Context(), &ivsapi.ListAdConfigurationsRequest{})
	require.NoError(t, err)
	require.Len(t, list.AdConfigurations, 1)
	s := list.AdConfigurations[0]
	assert.Equal(t, ivsapi.AdConfigurationSummary{
		Arn: s.Arn, Name: ptr("ads"), MediaTailorPlaybackConfigurations: mt("two"),
		PostRollConfiguration: up.AdConfiguration.PostRollConfiguration, Tags: map[string]string{"a": "1"},
	}, s)

	// Referenced by a channel: 409.
	ch := e.createChannel(t, &ivsapi.CreateChannelRequest{AdConfigurationArn: ad.Arn}).Channel
	requireConflict(t, e.svc.DeleteAdConfiguration(t.Context(), &ivsapi.DeleteAdConfigurationRequest{Arn: ad.Arn}))
	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: ch.Arn, AdConfigurationArn: ptr("")})
	require.NoError(t, err)
	require.NoError(t, e.svc.DeleteAdConfiguration(t.Context(), &ivsapi.DeleteAdConfigurationRequest{Arn: ad.Arn}))
	_, err = e.svc.GetAdConfiguration(t.Context(), &ivsapi.GetAdConfigurationRequest{Arn: ad.Arn})
	requireNotFound(t, err, *ad.Arn)
	_, err = e.svc.UpdateAdConfiguration(t.Context(), &ivsapi.UpdateAdConfigurationRequest{Arn: ad.Arn, Name: ptr("x")})
	requireNotFound(t, err, *ad.Arn)
}
