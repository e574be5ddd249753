package channels_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/control/api"
)

// allowAll accepts every request (authentication is control/api's concern,
// tested there).
type allowAll struct{}

func (allowAll) Authenticate(*http.Request) ([]byte, error) { return nil, nil }

// newSDKClient serves the service over HTTP and returns an official SDK
// client pointed at it. No ivs-realtime call is made, so that service is nil.
func newSDKClient(t *testing.T, e *env) *ivs.Client {
	t.Helper()
	h := api.New(e.svc, nil, allowAll{}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return ivs.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, func(o *ivs.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
}

func TestThroughSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := newSDKClient(t, e)
	ctx := t.Context()

	created, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("sdk-1"), Type: types.ChannelTypeAdvancedHDChannelType})
	require.NoError(t, err)
	ch := created.Channel
	require.NotNil(t, ch)
	assert.Equal(t, "sdk-1", aws.ToString(ch.Name))
	assert.Equal(t, types.ChannelLatencyModeLowLatency, ch.LatencyMode)
	assert.Equal(t, types.TranscodePresetHigherBandwidthTranscodePreset, ch.Preset)
	assert.Equal(t, types.ContainerFormatTs, ch.ContainerFormat)
	assert.Equal(t, "", aws.ToString(ch.RecordingConfigurationArn))
	assert.NotNil(t, ch.RecordingConfigurationArn)
	assert.NotEmpty(t, aws.ToString(ch.Srt.Passphrase))
	require.NotNil(t, ch.MultitrackInputConfiguration)
	assert.False(t, ch.MultitrackInputConfiguration.Enabled)
	assert.Equal(t, aws.ToString(ch.Arn), aws.ToString(created.StreamKey.ChannelArn))

	got, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Arn})
	require.NoError(t, err)
	assert.Equal(t, ch.Arn, got.Channel.Arn)
	assert.Equal(t, ch.PlaybackUrl, got.Channel.PlaybackUrl)

	for range 4 {
		_, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{})
		require.NoError(t, err)
	}
	p := ivs.NewListChannelsPaginator(c, &ivs.ListChannelsInput{MaxResults: aws.Int32(2)})
	seen := map[string]bool{}
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, s := range page.Channels {
			assert.False(t, seen[aws.ToString(s.Arn)])
			seen[aws.ToString(s.Arn)] = true
		}
	}
	assert.Len(t, seen, 5)
	assert.Equal(t, 3, pages)

	// Tags through /tags/{arn} (the ARN is percent-encoded in the path).
	_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: ch.Arn, Tags: map[string]string{"team": "video", "env": "test"}})
	require.NoError(t, err)
	_, err = c.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: ch.Arn, TagKeys: []string{"env"}})
	require.NoError(t, err)
	tags, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: ch.Arn})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "video"}, tags.Tags)

	// Typed errors. The model's only error member is exceptionMessage, so
	// the Go SDK fills ExceptionMessage (its ErrorMessage() reads Message,
	// which it never deserializes).
	_, err = c.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: ch.Arn})
	var quota *types.ServiceQuotaExceededException
	require.True(t, errors.As(err, &quota), "got %v", err)
	assert.Contains(t, aws.ToString(quota.ExceptionMessage), "stream keys per channel")

	_, err = c.CreateChannel(ctx, &ivs.CreateChannelInput{Preset: types.TranscodePresetConstrainedBandwidthTranscodePreset})
	var invalid *types.ValidationException
	require.True(t, errors.As(err, &invalid), "got %v", err)
	assert.Contains(t, aws.ToString(invalid.ExceptionMessage), "preset")

	rc, err := c.CreateRecordingConfiguration(ctx, &ivs.CreateRecordingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfiguration{S3: &types.S3DestinationConfiguration{BucketName: aws.String("bucket")}},
	})
	require.NoError(t, err)
	_, err = c.ListChannels(ctx, &ivs.ListChannelsInput{FilterByName: aws.String("sdk-1"), FilterByRecordingConfigurationArn: rc.RecordingConfiguration.Arn})
	var conflict *types.ConflictException
	require.True(t, errors.As(err, &conflict), "got %v", err)

	e.live.GoLive(aws.ToString(ch.Arn), "HEALTHY")
	_, err = c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: ch.Arn})
	require.True(t, errors.As(err, &conflict), "got %v", err)
	_, err = c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: ch.Arn})
	require.NoError(t, err)
	_, err = c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: ch.Arn, Metadata: aws.String("x")})
	var offline *types.ChannelNotBroadcasting
	require.True(t, errors.As(err, &offline), "got %v", err)

	_, err = c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: ch.Arn})
	require.NoError(t, err)
	_, err = c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Arn})
	var notFound *types.ResourceNotFoundException
	require.True(t, errors.As(err, &notFound), "got %v", err)
	assert.Contains(t, aws.ToString(notFound.ExceptionMessage), aws.ToString(ch.Arn))
	_, err = c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: ch.Arn})
	require.True(t, errors.As(err, &notFound), "got %v", err)
}
