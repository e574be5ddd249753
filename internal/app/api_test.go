package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/testutil"
)

var ctx = context.Background()

func p384PEM(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// signedRequest sends a SigV4-signed request like the SDKs do.
func signedRequest(t *testing.T, s *testutil.Server, method, path, body string, at time.Time, secret string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.APIEndpoint()+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: s.Credentials.ID, SecretAccessKey: secret}
	require.NoError(t, v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ivs", "us-east-1", at))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestEveryOperationIsRouted(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	type op struct{ method, path, name string }
	var ops []op
	for _, o := range ivsapi.Operations {
		ops = append(ops, op{o.Method, o.Path, o.Name})
	}
	for _, o := range rtapi.Operations {
		ops = append(ops, op{o.Method, o.Path, o.Name})
	}
	require.Len(t, ops, 41+39)
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			path := strings.Replace(o.path, "{resourceArn}", "arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Achannel%2FnoSuchChan", 1)
			body := "{}"
			if o.method != http.MethodPost {
				body = ""
			}
			resp, b := signedRequest(t, s, o.method, path, body, time.Now(), s.Credentials.Secret)
			require.NotEqual(t, "UnknownOperationException", resp.Header.Get("X-Amzn-ErrorType"), string(b))
			require.NotEmpty(t, resp.Header.Get("X-Amzn-Requestid"))
			if resp.StatusCode >= 400 {
				// Empty input: a modeled error, never a 500.
				require.Less(t, resp.StatusCode, 500, string(b))
				var e map[string]string
				require.NoError(t, json.Unmarshal(b, &e), string(b))
				require.Equal(t, resp.Header.Get("X-Amzn-ErrorType"), e["__type"])
				require.NotEmpty(t, e["exceptionMessage"])
			}
		})
	}
}

func TestLowLatencyResourcesRoundTrip(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	c := s.IVS

	rc, err := c.CreateRecordingConfiguration(ctx, &ivs.CreateRecordingConfigurationInput{
		Name: aws.String("rec"), DestinationConfiguration: &ivstypes.DestinationConfiguration{S3: &ivstypes.S3DestinationConfiguration{BucketName: aws.String("my-bucket")}},
	})
	require.NoError(t, err)
	require.Equal(t, ivstypes.RecordingConfigurationStateActive, rc.RecordingConfiguration.State)

	pol, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{Name: aws.String("pol"), AllowedOrigins: []string{"https://example.com"}})
	require.NoError(t, err)

	ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{
		Name: aws.String("first"), Type: ivstypes.ChannelTypeBasicChannelType, Authorized: true,
		RecordingConfigurationArn: rc.RecordingConfiguration.Arn, PlaybackRestrictionPolicyArn: pol.PlaybackRestrictionPolicy.Arn,
		Tags: map[string]string{"team": "video"},
	})
	require.NoError(t, err)
	require.Regexp(t, `^arn:aws:ivs:us-east-1:[0-9]{12}:channel/[A-Za-z0-9]{12}$`, *ch.Channel.Arn)
	require.Equal(t, ivstypes.ChannelLatencyModeLowLatency, ch.Channel.LatencyMode)
	require.True(t, ch.Channel.Authorized)
	require.Contains(t, *ch.Channel.PlaybackUrl, s.MediaEndpoint()+"/api/video/v1/us-east-1.")
	require.True(t, strings.HasSuffix(*ch.Channel.PlaybackUrl, ".m3u8"))
	require.NotEmpty(t, *ch.Channel.IngestEndpoint)
	require.NotNil(t, ch.Channel.Srt)
	require.NotEmpty(t, *ch.Channel.Srt.Passphrase)
	require.Regexp(t, `^sk_us-east-1_[A-Za-z0-9]{12}_[A-Za-z0-9]{30}$`, *ch.StreamKey.Value)
	require.Equal(t, "video", ch.Channel.Tags["team"])

	got, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Equal(t, *ch.Channel.Arn, *got.Channel.Arn)
	require.Equal(t, *rc.RecordingConfiguration.Arn, *got.Channel.RecordingConfigurationArn)

	up, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: ch.Channel.Arn, Name: aws.String("renamed"), LatencyMode: ivstypes.ChannelLatencyModeNormalLatency})
	require.NoError(t, err)
	require.Equal(t, "renamed", *up.Channel.Name)
	require.Equal(t, ivstypes.ChannelTypeBasicChannelType, up.Channel.Type, "absent members stay unchanged")

	keys, err := c.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Len(t, keys.StreamKeys, 1)
	sk, err := c.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: keys.StreamKeys[0].Arn})
	require.NoError(t, err)
	require.Equal(t, *ch.StreamKey.Value, *sk.StreamKey.Value)
	bk, err := c.BatchGetStreamKey(ctx, &ivs.BatchGetStreamKeyInput{Arns: []string{*sk.StreamKey.Arn, "arn:aws:ivs:us-east-1:123456789012:stream-key/missing"}})
	require.NoError(t, err)
	require.Len(t, bk.StreamKeys, 1)
	require.Len(t, bk.Errors, 1)

	bc, err := c.BatchGetChannel(ctx, &ivs.BatchGetChannelInput{Arns: []string{*ch.Channel.Arn}})
	require.NoError(t, err)
	require.Len(t, bc.Channels, 1)

	_, err = c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
	var nb *ivstypes.ChannelNotBroadcasting
	require.ErrorAs(t, err, &nb)
	streams, err := c.ListStreams(ctx, &ivs.ListStreamsInput{})
	require.NoError(t, err)
	require.Empty(t, streams.Streams)
	sessions, err := c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Empty(t, sessions.StreamSessions)

	_, pubPEM := p384PEM(t)
	kp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pubPEM), Name: aws.String("viewer-key")})
	require.NoError(t, err)
	require.Regexp(t, `^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, *kp.KeyPair.Fingerprint)
	_, err = c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.KeyPair.Arn})
	require.NoError(t, err)

	_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: ch.Channel.Arn, Tags: map[string]string{"env": "prod"}})
	require.NoError(t, err)
	tags, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"team": "video", "env": "prod"}, tags.Tags)
	_, err = c.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: ch.Channel.Arn, TagKeys: []string{"team"}})
	require.NoError(t, err)
	tags, err = c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"env": "prod"}, tags.Tags)

	// A referenced recording configuration cannot be deleted.
	_, err = c.DeleteRecordingConfiguration(ctx, &ivs.DeleteRecordingConfigurationInput{Arn: rc.RecordingConfiguration.Arn})
	var conflict *ivstypes.ConflictException
	require.ErrorAs(t, err, &conflict)

	_, err = c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: ch.Channel.Arn})
	require.NoError(t, err)
	_, err = c.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: sk.StreamKey.Arn})
	var nf *ivstypes.ResourceNotFoundException
	require.ErrorAs(t, err, &nf, "stream keys go with their channel")
	_, err = c.DeleteRecordingConfiguration(ctx, &ivs.DeleteRecordingConfigurationInput{Arn: rc.RecordingConfiguration.Arn})
	require.NoError(t, err)
	_, err = c.DeletePlaybackRestrictionPolicy(ctx, &ivs.DeletePlaybackRestrictionPolicyInput{Arn: pol.PlaybackRestrictionPolicy.Arn})
	require.NoError(t, err)
	_, err = c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.KeyPair.Arn})
	require.NoError(t, err)
}

func TestRealtimeResourcesRoundTrip(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	c := s.Realtime

	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{
		Name: aws.String("stage-1"), Tags: map[string]string{"a": "b"},
		ParticipantTokenConfigurations: []rttypes.ParticipantTokenConfiguration{{UserId: aws.String("u1")}, {UserId: aws.String("u2"), Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilitySubscribe}}},
	})
	require.NoError(t, err)
	require.Len(t, st.ParticipantTokens, 2)
	require.Equal(t, s.MediaEndpoint()+"/whip", *st.Stage.Endpoints.Whip)
	require.True(t, strings.HasPrefix(*st.Stage.Endpoints.Events, "ws://"))
	require.Equal(t, "b", st.Stage.Tags["a"])

	up, err := c.UpdateStage(ctx, &ivsrealtime.UpdateStageInput{Arn: st.Stage.Arn, Name: aws.String("stage-renamed")})
	require.NoError(t, err)
	require.Equal(t, "stage-renamed", *up.Stage.Name)
	got, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	require.NoError(t, err)
	require.Equal(t, "stage-renamed", *got.Stage.Name)

	enc, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("enc"),
		Video: &rttypes.Video{Width: aws.Int32(1280), Height: aws.Int32(720), Framerate: aws.Float32(30), Bitrate: aws.Int32(2500000)}})
	require.NoError(t, err)
	require.Equal(t, int32(720), *enc.EncoderConfiguration.Video.Height)
	def, err := c.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
	require.NoError(t, err)
	require.Equal(t, int32(2500000), *def.EncoderConfiguration.Video.Bitrate, "defaults filled")

	stor, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &rttypes.S3StorageConfiguration{BucketName: aws.String("recordings")}})
	require.NoError(t, err)

	ch, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("out")})
	require.NoError(t, err)
	comp, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{
		StageArn: st.Stage.Arn, IdempotencyToken: aws.String("tok-1"),
		Destinations: []rttypes.DestinationConfiguration{
			{Channel: &rttypes.ChannelDestinationConfiguration{ChannelArn: ch.Channel.Arn, EncoderConfigurationArn: enc.EncoderConfiguration.Arn}},
			{S3: &rttypes.S3DestinationConfiguration{StorageConfigurationArn: stor.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}},
		},
	})
	require.NoError(t, err)
	// The compositor accepted it: it waits for publishers (none yet).
	require.Equal(t, rttypes.CompositionStateStarting, comp.Composition.State)
	require.Len(t, comp.Composition.Destinations, 2)
	require.NotNil(t, comp.Composition.Layout.Grid)
	again, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn, IdempotencyToken: aws.String("tok-1"),
		Destinations: []rttypes.DestinationConfiguration{{Channel: &rttypes.ChannelDestinationConfiguration{ChannelArn: ch.Channel.Arn}}}})
	require.NoError(t, err)
	require.Equal(t, *comp.Composition.Arn, *again.Composition.Arn, "idempotency token honoured")
	gc, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	require.Equal(t, rttypes.CompositionStateStarting, gc.Composition.State)
	lc, err := c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByStageArn: st.Stage.Arn})
	require.NoError(t, err)
	require.Len(t, lc.Compositions, 1)
	_, err = c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		gc, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
		return err == nil && gc.Composition.State == rttypes.CompositionStateStopped
	}, 10*time.Second, 50*time.Millisecond, "StopComposition stops it")

	priv, pubPEM := p384PEM(t)
	pk, err := c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(pubPEM), Name: aws.String("mine")})
	require.NoError(t, err)
	_, err = c.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: pk.PublicKey.Arn})
	require.NoError(t, err)
	// A token the user signs offline with the imported key is accepted.
	offline := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{
		"jti": "offline-user-1", "resource": *st.Stage.Arn, "topic": "x", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		"capabilities": map[string]bool{"allow_publish": true, "allow_subscribe": true}, "version": "1.0",
	})
	offline.Header["kid"] = *pk.PublicKey.Arn
	signed, err := offline.SignedString(priv)
	require.NoError(t, err)
	claims, err := s.Stages.VerifyToken(ctx, signed)
	require.NoError(t, err)
	require.Equal(t, "offline-user-1", claims.ParticipantID)

	ing, err := c.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{IngestProtocol: rttypes.IngestProtocolRtmps, StageArn: st.Stage.Arn, UserId: aws.String("obs")})
	require.NoError(t, err)
	require.Regexp(t, `^rt_[0-9]+_[a-z0-9-]+_[a-zA-Z0-9-]+_.+$`, *ing.IngestConfiguration.StreamKey)
	require.Equal(t, rttypes.IngestConfigurationStateInactive, ing.IngestConfiguration.State)
	_, err = c.UpdateIngestConfiguration(ctx, &ivsrealtime.UpdateIngestConfigurationInput{Arn: ing.IngestConfiguration.Arn, StageArn: aws.String("")})
	require.NoError(t, err)
	li, err := c.ListIngestConfigurations(ctx, &ivsrealtime.ListIngestConfigurationsInput{})
	require.NoError(t, err)
	require.Len(t, li.IngestConfigurations, 1)

	// Sessions and participants are written by the media plane.
	sid, err := s.Stages.StartSession(ctx, *st.Stage.Arn)
	require.NoError(t, err)
	now := time.Now().UTC()
	require.NoError(t, s.Stages.RecordParticipant(ctx, *st.Stage.Arn, sid, &rtapi.Participant{ParticipantId: aws.String("p1"), UserId: aws.String("u1"), State: aws.String("CONNECTED"), Published: aws.Bool(true), FirstJoinTime: &now, Attributes: map[string]string{"k": "v"}, Protocol: aws.String("WHIP")}))
	require.NoError(t, s.Stages.RecordParticipantEvent(ctx, *st.Stage.Arn, sid, &rtapi.Event{Name: aws.String("JOINED"), ParticipantId: aws.String("p1"), EventTime: &now}))
	got, err = c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	require.NoError(t, err)
	require.Equal(t, sid, *got.Stage.ActiveSessionId)
	ss, err := c.GetStageSession(ctx, &ivsrealtime.GetStageSessionInput{StageArn: st.Stage.Arn, SessionId: &sid})
	require.NoError(t, err)
	require.Equal(t, sid, *ss.StageSession.SessionId)
	lss, err := c.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: st.Stage.Arn})
	require.NoError(t, err)
	require.Len(t, lss.StageSessions, 1)
	lp, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Stage.Arn, SessionId: &sid, FilterByPublished: true})
	require.NoError(t, err)
	require.Len(t, lp.Participants, 1)
	gp, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Stage.Arn, SessionId: &sid, ParticipantId: aws.String("p1")})
	require.NoError(t, err)
	require.Equal(t, "v", gp.Participant.Attributes["k"])
	ev, err := c.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: st.Stage.Arn, SessionId: &sid, ParticipantId: aws.String("p1")})
	require.NoError(t, err)
	require.Len(t, ev.Events, 1)
	require.Equal(t, rttypes.EventNameJoined, ev.Events[0].Name)

	// Disconnect revokes the token for good.
	tok, err := c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
	require.NoError(t, err)
	_, err = s.Stages.VerifyToken(ctx, *tok.ParticipantToken.Token)
	require.NoError(t, err)
	_, err = c.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: st.Stage.Arn, ParticipantId: tok.ParticipantToken.ParticipantId, Reason: aws.String("bye")})
	require.NoError(t, err)
	_, err = s.Stages.VerifyToken(ctx, *tok.ParticipantToken.Token)
	require.Error(t, err)

	_, err = c.StartParticipantReplication(ctx, &ivsrealtime.StartParticipantReplicationInput{SourceStageArn: st.Stage.Arn, DestinationStageArn: st.Stage.Arn, ParticipantId: aws.String("p1")})
	require.Error(t, err)
	reps, err := c.ListParticipantReplicas(ctx, &ivsrealtime.ListParticipantReplicasInput{SourceStageArn: st.Stage.Arn, ParticipantId: aws.String("p1")})
	require.NoError(t, err)
	require.Empty(t, reps.Replicas)

	for _, arn := range []*string{st.Stage.Arn, enc.EncoderConfiguration.Arn, stor.StorageConfiguration.Arn, pk.PublicKey.Arn, ing.IngestConfiguration.Arn} {
		_, err := c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"x": "y"}})
		require.NoError(t, err, *arn)
		tags, err := c.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: arn})
		require.NoError(t, err)
		require.Equal(t, "y", tags.Tags["x"])
		_, err = c.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"x"}})
		require.NoError(t, err)
	}

	_, err = c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: st.Stage.Arn})
	require.NoError(t, err)
	_, err = c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	var nf *rttypes.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
	_, err = c.DeleteEncoderConfiguration(ctx, &ivsrealtime.DeleteEncoderConfigurationInput{Arn: enc.EncoderConfiguration.Arn})
	require.NoError(t, err)
	_, err = c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: stor.StorageConfiguration.Arn})
	require.NoError(t, err)
	_, err = c.DeletePublicKey(ctx, &ivsrealtime.DeletePublicKeyInput{Arn: pk.PublicKey.Arn})
	require.NoError(t, err)
	_, err = c.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: ing.IngestConfiguration.Arn})
	require.NoError(t, err)
	les, err := c.ListEncoderConfigurations(ctx, &ivsrealtime.ListEncoderConfigurationsInput{})
	require.NoError(t, err)
	require.Len(t, les.EncoderConfigurations, 1)
	lst, err := c.ListStorageConfigurations(ctx, &ivsrealtime.ListStorageConfigurationsInput{})
	require.NoError(t, err)
	require.Empty(t, lst.StorageConfigurations)
	lpk, err := c.ListPublicKeys(ctx, &ivsrealtime.ListPublicKeysInput{})
	require.NoError(t, err)
	require.Empty(t, lpk.PublicKeys)
	lstages, err := c.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	require.NoError(t, err)
	require.Empty(t, lstages.Stages)
}

func TestPaginatorsWalkLongLists(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	const n = 230
	want := map[string]bool{}
	for i := range n {
		out, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("ch-" + string(rune('a'+i%26)))})
		require.NoError(t, err)
		want[*out.Channel.Arn] = true
	}
	seen := map[string]bool{}
	pages := 0
	p := ivs.NewListChannelsPaginator(s.IVS, &ivs.ListChannelsInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, c := range page.Channels {
			require.False(t, seen[*c.Arn], "duplicate %s", *c.Arn)
			seen[*c.Arn] = true
		}
	}
	require.Equal(t, 3, pages)
	require.Equal(t, want, seen)

	for range 7 {
		_, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
		require.NoError(t, err)
	}
	sp := ivsrealtime.NewListStagesPaginator(s.Realtime, &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(3)})
	count, pages := 0, 0
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		require.NoError(t, err)
		pages++
		count += len(page.Stages)
	}
	require.Equal(t, 7, count)
	require.Equal(t, 3, pages)

	_, err := s.IVS.ListChannels(ctx, &ivs.ListChannelsInput{NextToken: aws.String("garbage!")})
	var ve *ivstypes.ValidationException
	require.ErrorAs(t, err, &ve)
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	ch, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{})
	require.NoError(t, err)

	_, err = s.IVS.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:channel/doesNotExist")})
	var nf *ivstypes.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
	require.Contains(t, *nf.ExceptionMessage, "doesNotExist")

	_, err = s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Type: "HUGE", Name: aws.String("bad name!")})
	var ve *ivstypes.ValidationException
	require.ErrorAs(t, err, &ve)
	require.Contains(t, *ve.ExceptionMessage, "type")
	require.Contains(t, *ve.ExceptionMessage, "name")

	_, err = s.IVS.ListChannels(ctx, &ivs.ListChannelsInput{FilterByName: aws.String("a"), FilterByRecordingConfigurationArn: aws.String("arn:aws:ivs:us-east-1:123456789012:recording-configuration/abc")})
	var ce *ivstypes.ConflictException
	require.ErrorAs(t, err, &ce)

	_, err = s.IVS.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: ch.Channel.Arn})
	var qe *ivstypes.ServiceQuotaExceededException
	require.ErrorAs(t, err, &qe)

	_, err = s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/nope")})
	var rnf *rttypes.ResourceNotFoundException
	require.ErrorAs(t, err, &rnf)

	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	require.NoError(t, err)
	_, err = s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, Attributes: map[string]string{"big": strings.Repeat("x", 1100)}})
	var rve *rttypes.ValidationException
	require.ErrorAs(t, err, &rve)
	_, err = s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, Duration: aws.Int32(20161)})
	require.ErrorAs(t, err, &rve)
	_, err = s.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Video: &rttypes.Video{Width: aws.Int32(1921)}})
	require.ErrorAs(t, err, &rve)
	for range 20 {
		_, err = s.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
		require.NoError(t, err)
	}
	_, err = s.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
	var rqe *rttypes.ServiceQuotaExceededException
	require.ErrorAs(t, err, &rqe)
	_, err = s.Realtime.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn, Destinations: []rttypes.DestinationConfiguration{{}}})
	require.ErrorAs(t, err, &rve, "a destination needs channel or s3")
}

func TestAuthRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	apiStatus := func(err error) (int, string) {
		var re *smithyhttp.ResponseError
		require.ErrorAs(t, err, &re)
		var ae smithy.APIError
		require.True(t, errors.As(err, &ae))
		return re.HTTPStatusCode(), ae.ErrorCode()
	}

	wrongIVS, wrongRT := testutil.Clients(s.APIEndpoint(), "us-east-1", s.Credentials.ID, "not-the-secret")
	_, err := wrongIVS.ListChannels(ctx, &ivs.ListChannelsInput{})
	status, code := apiStatus(err)
	require.Equal(t, 403, status)
	require.Equal(t, "InvalidSignatureException", code)
	_, err = wrongRT.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	status, _ = apiStatus(err)
	require.Equal(t, 403, status)

	unknownIVS, _ := testutil.Clients(s.APIEndpoint(), "us-east-1", "AKIAUNKNOWNKEY000000", "whatever")
	_, err = unknownIVS.ListChannels(ctx, &ivs.ListChannelsInput{})
	status, code = apiStatus(err)
	require.Equal(t, 403, status)
	require.Equal(t, "UnrecognizedClientException", code)

	resp, body := signedRequest(t, s, http.MethodPost, "/ListChannels", "{}", time.Now().Add(-20*time.Minute), s.Credentials.Secret)
	require.Equal(t, 403, resp.StatusCode, string(body))
	require.Equal(t, "InvalidSignatureException", resp.Header.Get("X-Amzn-ErrorType"))
	require.NotContains(t, string(body), s.Credentials.Secret)

	resp, _ = signedRequest(t, s, http.MethodPost, "/ListChannels", "{}", time.Now(), s.Credentials.Secret)
	require.Equal(t, 200, resp.StatusCode, "a fresh, correct signature is accepted")

	unsigned, err := http.Post(s.APIEndpoint()+"/ListChannels", "application/json", bytes.NewReader([]byte("{}")))
	require.NoError(t, err)
	unsigned.Body.Close()
	require.Equal(t, 403, unsigned.StatusCode)
	require.Equal(t, "MissingAuthenticationTokenException", unsigned.Header.Get("X-Amzn-ErrorType"))

	// Browsers' CORS preflight needs no signature.
	pre, err := http.NewRequest(http.MethodOptions, s.APIEndpoint()+"/CreateChannel", nil)
	require.NoError(t, err)
	pre.Header.Set("Origin", "http://localhost:3000")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	presp, err := http.DefaultClient.Do(pre)
	require.NoError(t, err)
	presp.Body.Close()
	require.Equal(t, http.StatusNoContent, presp.StatusCode)
	require.Equal(t, "http://localhost:3000", presp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, presp.Header.Get("Access-Control-Allow-Headers"), "X-Amz-Date")
}

func TestParticipantTokenVerifiesWithStagePublicKey(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("verify")})
	require.NoError(t, err)
	out, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
		StageArn: st.Stage.Arn, UserId: aws.String("todd"), Duration: aws.Int32(60),
		Attributes:   map[string]string{"username": "todd", "isFeatured": "false"},
		Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish},
	})
	require.NoError(t, err)
	tok := out.ParticipantToken
	require.Equal(t, map[string]string{"username": "todd", "isFeatured": "false"}, tok.Attributes)
	require.WithinDuration(t, time.Now().Add(time.Hour), *tok.ExpirationTime, 5*time.Second)

	stageID := (*st.Stage.Arn)[strings.LastIndex(*st.Stage.Arn, "/")+1:]
	resp, err := http.Get(s.MediaEndpoint() + "/stages/" + stageID + "/public-key.pem")
	require.NoError(t, err)
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	block, _ := pem.Decode(pemBytes)
	require.NotNil(t, block)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)

	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(*tok.Token, claims, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES384"}), jwt.WithExpirationRequired())
	require.NoError(t, err)
	require.True(t, parsed.Valid)
	require.Equal(t, *tok.ParticipantId, claims["jti"])
	require.Equal(t, *st.Stage.Arn, claims["resource"])
	require.Equal(t, stageID, claims["topic"])
	require.Equal(t, "todd", claims["user_id"])
	require.Equal(t, "1.0", claims["version"])
	require.Equal(t, *st.Stage.Endpoints.Whip, claims["whip_url"])
	require.Equal(t, *st.Stage.Endpoints.Events, claims["events_url"])
	require.Equal(t, map[string]any{"username": "todd", "isFeatured": "false"}, claims["attributes"])
	require.Equal(t, map[string]any{"allow_publish": true, "allow_subscribe": false}, claims["capabilities"])
	require.NotNil(t, claims["iat"])

	// Another stage's key does not verify it.
	other, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	require.NoError(t, err)
	otherPEM, err := s.Stages.StagePublicKey(ctx, *other.Stage.Arn)
	require.NoError(t, err)
	ob, _ := pem.Decode([]byte(otherPEM))
	opub, err := x509.ParsePKIXPublicKey(ob.Bytes)
	require.NoError(t, err)
	_, err = jwt.Parse(*tok.Token, func(*jwt.Token) (any, error) { return opub, nil }, jwt.WithValidMethods([]string{"ES384"}))
	require.Error(t, err)
}
