package channels_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func s3(bucket string) *ivsapi.DestinationConfiguration {
	return &ivsapi.DestinationConfiguration{S3: &ivsapi.S3DestinationConfiguration{BucketName: ptr(bucket)}}
}

func TestCreateRecordingConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      ivsapi.CreateRecordingConfigurationRequest
		wantErr string
		want    func(t *testing.T, rc *ivsapi.RecordingConfiguration)
	}{
		{
			name: "defaults", in: ivsapi.CreateRecordingConfigurationRequest{DestinationConfiguration: s3("my-bucket")},
			want: func(t *testing.T, rc *ivsapi.RecordingConfiguration) {
				assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:recording-configuration/[a-zA-Z0-9]{12}$`, *rc.Arn)
				assert.Equal(t, "", *rc.Name)
				assert.Equal(t, "my-bucket", *rc.DestinationConfiguration.S3.BucketName)
				assert.Equal(t, "ACTIVE", *rc.State)
				assert.Equal(t, &ivsapi.ThumbnailConfiguration{RecordingMode: ptr("INTERVAL"), TargetIntervalSeconds: ptr(int64(60)), Storage: []string{"SEQUENTIAL"}}, rc.ThumbnailConfiguration)
				assert.Equal(t, &ivsapi.RenditionConfiguration{RenditionSelection: ptr("ALL"), Renditions: []string{}}, rc.RenditionConfiguration)
				assert.Equal(t, int64(0), *rc.RecordingReconnectWindowSeconds)
				assert.Equal(t, map[string]string{}, rc.Tags)
			},
		},
		{
			name: "given members", in: ivsapi.CreateRecordingConfigurationRequest{
				DestinationConfiguration:        s3("b2"),
				Name:                            ptr("rec"),
				RecordingReconnectWindowSeconds: ptr(int64(30)),
				ThumbnailConfiguration:          &ivsapi.ThumbnailConfiguration{TargetIntervalSeconds: ptr(int64(10)), Resolution: ptr("HD"), Storage: []string{"LATEST", "SEQUENTIAL"}},
				RenditionConfiguration:          &ivsapi.RenditionConfiguration{RenditionSelection: ptr("CUSTOM"), Renditions: []string{"HD", "SD"}},
				Tags:                            map[string]string{"k": "v"},
			},
			want: func(t *testing.T, rc *ivsapi.RecordingConfiguration) {
				assert.Equal(t, "rec", *rc.Name)
				assert.Equal(t, int64(30), *rc.RecordingReconnectWindowSeconds)
				assert.Equal(t, &ivsapi.ThumbnailConfiguration{RecordingMode: ptr("INTERVAL"), TargetIntervalSeconds: ptr(int64(10)), Resolution: ptr("HD"), Storage: []string{"LATEST", "SEQUENTIAL"}}, rc.ThumbnailConfiguration)
				assert.Equal(t, &ivsapi.RenditionConfiguration{RenditionSelection: ptr("CUSTOM"), Renditions: []string{"HD", "SD"}}, rc.RenditionConfiguration)
				assert.Equal(t, map[string]string{"k": "v"}, rc.Tags)
			},
		},
		{
			name: "thumbnails disabled", in: ivsapi.CreateRecordingConfigurationRequest{DestinationConfiguration: s3("b3"), ThumbnailConfiguration: &ivsapi.ThumbnailConfiguration{RecordingMode: ptr("DISABLED")}},
			want: func(t *testing.T, rc *ivsapi.RecordingConfiguration) {
				assert.Equal(t, "DISABLED", *rc.ThumbnailConfiguration.RecordingMode)
				assert.Nil(t, rc.ThumbnailConfiguration.TargetIntervalSeconds)
			},
		},
		{name: "custom renditions need a list", in: ivsapi.CreateRecordingConfigurationRequest{DestinationConfiguration: s3("b4"), RenditionConfiguration: &ivsapi.RenditionConfiguration{RenditionSelection: ptr("CUSTOM")}}, wantErr: "Validation"},
		{name: "no destination", in: ivsapi.CreateRecordingConfigurationRequest{}, wantErr: "Validation"},
		{name: "no bucket", in: ivsapi.CreateRecordingConfigurationRequest{DestinationConfiguration: &ivsapi.DestinationConfiguration{}}, wantErr: "Validation"},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := e.svc.CreateRecordingConfiguration(t.Context(), &tc.in)
			require.Equal(t, tc.wantErr, errorKind(err))
			if tc.wantErr != "" {
				return
			}
			tc.want(t, out.RecordingConfiguration)
			got, err := e.svc.GetRecordingConfiguration(t.Context(), &ivsapi.GetRecordingConfigurationRequest{Arn: out.RecordingConfiguration.Arn})
			require.NoError(t, err)
			assert.Equal(t, out.RecordingConfiguration, got.RecordingConfiguration)
		})
	}
}

func TestRecordingConfigurationDeleteAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	used := e.createRecording(t)
	free := e.createRecording(t)
	ch := e.createChannel(t, &ivsapi.CreateChannelRequest{RecordingConfigurationArn: &used}).Channel

	err := e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &used})
	requireConflict(t, err)
	assert.Contains(t, err.Error(), *ch.Arn)

	list, err := e.svc.ListRecordingConfigurations(t.Context(), &ivsapi.ListRecordingConfigurationsRequest{})
	require.NoError(t, err)
	require.Len(t, list.RecordingConfigurations, 2)
	s := list.RecordingConfigurations[0]
	assert.Equal(t, used, *s.Arn)
	assert.Equal(t, "ACTIVE", *s.State)
	assert.Equal(t, "bucket-1", *s.DestinationConfiguration.S3.BucketName)
	assert.NotNil(t, s.Name)
	assert.NotNil(t, s.Tags)

	require.NoError(t, e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &free}))
	// Once no channel uses it, it can go.
	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: ch.Arn, RecordingConfigurationArn: ptr("")})
	require.NoError(t, err)
	require.NoError(t, e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &used}))
	_, err = e.svc.GetRecordingConfiguration(t.Context(), &ivsapi.GetRecordingConfigurationRequest{Arn: &used})
	requireNotFound(t, err, used)
	requireNotFound(t, e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &used}), used)

	list, err = e.svc.ListRecordingConfigurations(t.Context(), &ivsapi.ListRecordingConfigurationsRequest{})
	require.NoError(t, err)
	assert.Empty(t, list.RecordingConfigurations)
	assert.NotNil(t, list.RecordingConfigurations)
}

func TestRecordingConfigurationQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range channels.MaxRecordingConfigurations {
		e.createRecording(t)
	}
	_, err := e.svc.CreateRecordingConfiguration(t.Context(), &ivsapi.CreateRecordingConfigurationRequest{DestinationConfiguration: s3("b")})
	requireQuota(t, err)
}

func TestRecordingConfigurationDeleteRacesChannelCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 5 {
		rc := e.createRecording(t)
		const creators = 8
		var wg sync.WaitGroup
		created := make([]error, creators)
		var deleteErr error
		for i := range creators {
			wg.Go(func() {
				_, created[i] = e.svc.CreateChannel(t.Context(), &ivsapi.CreateChannelRequest{RecordingConfigurationArn: &rc})
			})
		}
		wg.Go(func() {
			deleteErr = e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &rc})
		})
		wg.Wait()

		// Whatever the interleaving: no channel may reference a deleted
		// configuration, and every create either succeeded or saw it gone.
		list, err := e.svc.ListChannels(t.Context(), &ivsapi.ListChannelsRequest{FilterByRecordingConfigurationArn: &rc})
		require.NoError(t, err)
		if deleteErr == nil {
			assert.Empty(t, list.Channels)
		} else {
			requireConflict(t, deleteErr)
			assert.NotEmpty(t, list.Channels)
		}
		ok := 0
		for _, err := range created {
			if err == nil {
				ok++
				continue
			}
			requireNotFound(t, err, rc)
		}
		assert.Equal(t, ok, len(list.Channels))
		for _, c := range list.Channels {
			require.NoError(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: c.Arn}))
		}
		if deleteErr != nil {
			require.NoError(t, e.svc.DeleteRecordingConfiguration(t.Context(), &ivsapi.DeleteRecordingConfigurationRequest{Arn: &rc}))
		}
	}
}
