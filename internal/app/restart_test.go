package app_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

func TestRestartKeepsEveryResource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := testutil.Start(t, dir)

	rc, err := s.IVS.CreateRecordingConfiguration(ctx, &ivs.CreateRecordingConfigurationInput{DestinationConfiguration: &ivstypes.DestinationConfiguration{S3: &ivstypes.S3DestinationConfiguration{BucketName: aws.String("bucket-1")}}})
	require.NoError(t, err)
	ch, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("keep"), RecordingConfigurationArn: rc.RecordingConfiguration.Arn, Tags: map[string]string{"k": "v"}})
	require.NoError(t, err)
	pol, err := s.IVS.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{AllowedCountries: []string{"US"}})
	require.NoError(t, err)
	_, pub := p384PEM(t)
	kp, err := s.IVS.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: &pub})
	require.NoError(t, err)
	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("keep")})
	require.NoError(t, err)
	tok, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
	require.NoError(t, err)
	enc, err := s.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
	require.NoError(t, err)
	stor, err := s.Realtime.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &rttypes.S3StorageConfiguration{BucketName: aws.String("bucket-2")}})
	require.NoError(t, err)
	_, pub2 := p384PEM(t)
	pk, err := s.Realtime.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: &pub2})
	require.NoError(t, err)
	ing, err := s.Realtime.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: rttypes.IngestProtocolRtmps})
	require.NoError(t, err)
	comp, err := s.Realtime.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []rttypes.DestinationConfiguration{{Channel: &rttypes.ChannelDestinationConfiguration{ChannelArn: ch.Channel.Arn, EncoderConfigurationArn: enc.EncoderConfiguration.Arn}}}})
	require.NoError(t, err)
	creds := s.Credentials
	account := s.Config().AccountID
	s.Stop()

	s2 := testutil.Start(t, dir)
	require.Equal(t, creds.ID, s2.Credentials.ID, "the access key survives a restart")
	require.Equal(t, account, s2.Config().AccountID, "the generated account id survives a restart")

	gch, err := s2.IVS.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Equal(t, "keep", *gch.Channel.Name)
	require.Equal(t, "v", gch.Channel.Tags["k"])
	require.Equal(t, *rc.RecordingConfiguration.Arn, *gch.Channel.RecordingConfigurationArn)
	keys, err := s2.IVS.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Len(t, keys.StreamKeys, 1)
	sk, err := s2.IVS.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: keys.StreamKeys[0].Arn})
	require.NoError(t, err)
	require.Equal(t, *ch.StreamKey.Value, *sk.StreamKey.Value)
	_, err = s2.IVS.GetRecordingConfiguration(ctx, &ivs.GetRecordingConfigurationInput{Arn: rc.RecordingConfiguration.Arn})
	require.NoError(t, err)
	gpol, err := s2.IVS.GetPlaybackRestrictionPolicy(ctx, &ivs.GetPlaybackRestrictionPolicyInput{Arn: pol.PlaybackRestrictionPolicy.Arn})
	require.NoError(t, err)
	require.Equal(t, []string{"US"}, gpol.PlaybackRestrictionPolicy.AllowedCountries)
	gkp, err := s2.IVS.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.KeyPair.Arn})
	require.NoError(t, err)
	require.Equal(t, *kp.KeyPair.Fingerprint, *gkp.KeyPair.Fingerprint)

	gst, err := s2.Realtime.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	require.NoError(t, err)
	require.Equal(t, "keep", *gst.Stage.Name)
	claims, err := s2.Stages.VerifyToken(ctx, *tok.ParticipantToken.Token)
	require.NoError(t, err, "tokens minted before the restart still verify")
	require.Equal(t, *tok.ParticipantToken.ParticipantId, claims.ParticipantID)
	_, err = s2.Realtime.GetEncoderConfiguration(ctx, &ivsrealtime.GetEncoderConfigurationInput{Arn: enc.EncoderConfiguration.Arn})
	require.NoError(t, err)
	_, err = s2.Realtime.GetStorageConfiguration(ctx, &ivsrealtime.GetStorageConfigurationInput{Arn: stor.StorageConfiguration.Arn})
	require.NoError(t, err)
	_, err = s2.Realtime.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: pk.PublicKey.Arn})
	require.NoError(t, err)
	ging, err := s2.Realtime.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: ing.IngestConfiguration.Arn})
	require.NoError(t, err)
	require.Equal(t, *ing.IngestConfiguration.StreamKey, *ging.IngestConfiguration.StreamKey)
	gcomp, err := s2.Realtime.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	require.Equal(t, *comp.Composition.StageArn, *gcomp.Composition.StageArn)
	require.Len(t, gcomp.Composition.Destinations, len(comp.Composition.Destinations))
	// A running composition ends with its node: stopping the server stops
	// it, and the record says so after the restart.
	require.Equal(t, rttypes.CompositionStateStopped, gcomp.Composition.State)
}
