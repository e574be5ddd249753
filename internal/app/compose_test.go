package app_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

// TestCompositionToChannel: StartComposition on an empty stage with a
// channel destination runs the compositor, which publishes into the
// channel's live session (ACTIVE, the channel LIVE); StopComposition ends
// it (STOPPED).
func TestCompositionToChannel(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	srv := testutil.Start(t, "")
	ctx := context.Background()
	st, err := srv.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("composed")})
	require.NoError(t, err)
	ch, err := srv.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("composed"), Type: types.ChannelTypeBasicChannelType})
	require.NoError(t, err)
	enc, err := srv.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &rttypes.Video{Width: aws.Int32(640), Height: aws.Int32(360), Framerate: aws.Float32(15), Bitrate: aws.Int32(800000)}})
	require.NoError(t, err)
	comp, err := srv.Realtime.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []rttypes.DestinationConfiguration{{Channel: &rttypes.ChannelDestinationConfiguration{
			ChannelArn: ch.Channel.Arn, EncoderConfigurationArn: enc.EncoderConfiguration.Arn}}}})
	require.NoError(t, err)
	require.Equal(t, rttypes.CompositionStateStarting, comp.Composition.State)

	require.Eventually(t, func() bool {
		g, err := srv.Realtime.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
		return err == nil && g.Composition.State == rttypes.CompositionStateActive &&
			g.Composition.Destinations[0].State == rttypes.DestinationStateActive
	}, 45*time.Second, 100*time.Millisecond, "composition ACTIVE")
	require.Eventually(t, func() bool {
		s, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
		return err == nil && s.Stream.State == types.StreamStateStreamLive
	}, 20*time.Second, 100*time.Millisecond, "channel LIVE with the composition")

	_, err = srv.Realtime.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	g, err := srv.Realtime.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	require.Equal(t, rttypes.CompositionStateStopped, g.Composition.State)
	require.Equal(t, rttypes.DestinationStateStopped, g.Composition.Destinations[0].State)
}
