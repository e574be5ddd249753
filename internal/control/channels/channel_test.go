package channels_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

func TestCreateChannelDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.createChannel(t, nil)
	ch := out.Channel

	require.NotNil(t, ch)
	assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:channel/[a-zA-Z0-9]{12}$`, *ch.Arn)
	assert.Equal(t, "", *ch.Name)
	assert.Equal(t, "LOW", *ch.LatencyMode)
	assert.Equal(t, "STANDARD", *ch.Type)
	assert.False(t, *ch.Authorized)
	assert.False(t, *ch.InsecureIngest)
	assert.Equal(t, "", *ch.RecordingConfigurationArn)
	assert.Equal(t, "", *ch.PlaybackRestrictionPolicyArn)
	assert.Equal(t, "", *ch.AdConfigurationArn)
	assert.Equal(t, "", *ch.Preset)
	assert.Equal(t, "TS", *ch.ContainerFormat)
	assert.Equal(t, "media.example.test", *ch.IngestEndpoint)
	id := model.ResourceID(*ch.Arn)
	assert.Equal(t, "https://media.example.test/api/video/v1/us-east-1.123456789012.channel."+id+".m3u8", *ch.PlaybackUrl)
	assert.Equal(t, "media.example.test:9000", *ch.Srt.Endpoint)
	assert.GreaterOrEqual(t, len(*ch.Srt.Passphrase), 32)
	assert.Equal(t, &ivsapi.MultitrackInputConfiguration{Enabled: ptr(false), Policy: ptr("ALLOW"), MaximumResolution: ptr("FULL_HD")}, ch.MultitrackInputConfiguration)
	assert.NotNil(t, ch.Tags)
	assert.Empty(t, ch.Tags)

	sk := out.StreamKey
	require.NotNil(t, sk)
	assert.Regexp(t, `^arn:aws:ivs:us-east-1:123456789012:stream-key/[a-zA-Z0-9]{12}$`, *sk.Arn)
	assert.Regexp(t, `^sk_us-east-1_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{30}$`, *sk.Value)
	assert.Equal(t, *ch.Arn, *sk.ChannelArn)
	assert.NotNil(t, sk.Tags)

	// On the wire every string member is present, even when empty.
	b, err := json.Marshal(ch)
	require.NoError(t, err)
	var wire map[string]any
	require.NoError(t, json.Unmarshal(b, &wire))
	for _, k := range []string{"arn", "name", "latencyMode", "type", "recordingConfigurationArn", "ingestEndpoint",
		"playbackUrl", "playbackRestrictionPolicyArn", "preset", "containerFormat", "adConfigurationArn",
		"authorized", "insecureIngest", "tags", "srt", "multitrackInputConfiguration"} {
		assert.Contains(t, wire, k)
	}

	// GetChannel shows the same channel.
	got, err := e.svc.GetChannel(t.Context(), &ivsapi.GetChannelRequest{Arn: ch.Arn})
	require.NoError(t, err)
	assert.Equal(t, ch, got.Channel)
}

func TestCreateChannelRules(t *testing.T) {
	t.Parallel()
	multitrack := func(enabled bool, policy, res string) *ivsapi.MultitrackInputConfiguration {
		m := &ivsapi.MultitrackInputConfiguration{Enabled: ptr(enabled)}
		if policy != "" {
			m.Policy = ptr(policy)
		}
		if res != "" {
			m.MaximumResolution = ptr(res)
		}
		return m
	}
	tests := []struct {
		name       string
		in         ivsapi.CreateChannelRequest
		wantErr    string
		wantPreset string
		check      func(t *testing.T, ch *ivsapi.Channel)
	}{
		{name: "advanced HD defaults to higher bandwidth preset", in: ivsapi.CreateChannelRequest{Type: ptr("ADVANCED_HD")}, wantPreset: "HIGHER_BANDWIDTH_DELIVERY"},
		{name: "advanced SD keeps the given preset", in: ivsapi.CreateChannelRequest{Type: ptr("ADVANCED_SD"), Preset: ptr("CONSTRAINED_BANDWIDTH_DELIVERY")}, wantPreset: "CONSTRAINED_BANDWIDTH_DELIVERY"},
		{name: "basic has no preset", in: ivsapi.CreateChannelRequest{Type: ptr("BASIC")}, wantPreset: ""},
		{name: "preset on standard is rejected", in: ivsapi.CreateChannelRequest{Preset: ptr("HIGHER_BANDWIDTH_DELIVERY")}, wantErr: "Validation"},
		{name: "preset on basic is rejected", in: ivsapi.CreateChannelRequest{Type: ptr("BASIC"), Preset: ptr("CONSTRAINED_BANDWIDTH_DELIVERY")}, wantErr: "Validation"},
		{name: "multitrack needs fragmented mp4", in: ivsapi.CreateChannelRequest{MultitrackInputConfiguration: multitrack(true, "ALLOW", "HD")}, wantErr: "Validation"},
		{name: "multitrack needs standard type", in: ivsapi.CreateChannelRequest{Type: ptr("BASIC"), ContainerFormat: ptr("FRAGMENTED_MP4"), MultitrackInputConfiguration: multitrack(true, "ALLOW", "HD")}, wantErr: "Validation"},
		{name: "multitrack needs a policy", in: ivsapi.CreateChannelRequest{ContainerFormat: ptr("FRAGMENTED_MP4"), MultitrackInputConfiguration: multitrack(true, "", "HD")}, wantErr: "Validation"},
		{name: "multitrack needs a maximum resolution", in: ivsapi.CreateChannelRequest{ContainerFormat: ptr("FRAGMENTED_MP4"), MultitrackInputConfiguration: multitrack(true, "REQUIRE", "")}, wantErr: "Validation"},
		{
			name: "multitrack enabled", in: ivsapi.CreateChannelRequest{ContainerFormat: ptr("FRAGMENTED_MP4"), MultitrackInputConfiguration: multitrack(true, "REQUIRE", "HD")},
			check: func(t *testing.T, ch *ivsapi.Channel) {
				assert.Equal(t, &ivsapi.MultitrackInputConfiguration{Enabled: ptr(true), Policy: ptr("REQUIRE"), MaximumResolution: ptr("HD")}, ch.MultitrackInputConfiguration)
				assert.Equal(t, "FRAGMENTED_MP4", *ch.ContainerFormat)
			},
		},
		{name: "disabled multitrack with any type", in: ivsapi.CreateChannelRequest{Type: ptr("BASIC"), MultitrackInputConfiguration: multitrack(false, "", "")}},
		{
			name: "insecure ingest has no srt passphrase", in: ivsapi.CreateChannelRequest{InsecureIngest: ptr(true)},
			check: func(t *testing.T, ch *ivsapi.Channel) {
				assert.True(t, *ch.InsecureIngest)
				assert.NotNil(t, ch.Srt.Endpoint)
				assert.Nil(t, ch.Srt.Passphrase)
			},
		},
		{
			name: "given members are kept", in: ivsapi.CreateChannelRequest{Name: ptr("show-1"), LatencyMode: ptr("NORMAL"), Authorized: ptr(true), Tags: map[string]string{"k": "v"}},
			check: func(t *testing.T, ch *ivsapi.Channel) {
				assert.Equal(t, "show-1", *ch.Name)
				assert.Equal(t, "NORMAL", *ch.LatencyMode)
				assert.True(t, *ch.Authorized)
				assert.Equal(t, map[string]string{"k": "v"}, ch.Tags)
			},
		},
		{name: "missing recording configuration", in: ivsapi.CreateChannelRequest{RecordingConfigurationArn: ptr(missingARN("recording-configuration"))}, wantErr: "NotFound"},
		{name: "missing playback restriction policy", in: ivsapi.CreateChannelRequest{PlaybackRestrictionPolicyArn: ptr(missingARN("playback-restriction-policy"))}, wantErr: "NotFound"},
		{name: "missing ad configuration", in: ivsapi.CreateChannelRequest{AdConfigurationArn: ptr(missingARN("ad-configuration"))}, wantErr: "NotFound"},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := e.svc.CreateChannel(t.Context(), &tc.in)
			require.Equal(t, tc.wantErr, errorKind(err))
			if tc.wantErr != "" {
				if tc.wantErr == "NotFound" {
					// The message names the missing resource.
					for _, arn := range []*string{tc.in.RecordingConfigurationArn, tc.in.PlaybackRestrictionPolicyArn, tc.in.AdConfigurationArn} {
						if arn != nil {
							assert.Contains(t, err.Error(), *arn)
						}
					}
				}
				return
			}
			assert.Equal(t, tc.wantPreset, *out.Channel.Preset)
			if tc.check != nil {
				tc.check(t, out.Channel)
			}
		})
	}
}

func TestCreateChannelWithReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rc, pol, ad := e.createRecording(t), e.createRestriction(t), e.createAdConfig(t)
	out := e.createChannel(t, &ivsapi.CreateChannelRequest{
		RecordingConfigurationArn: ptr(rc), PlaybackRestrictionPolicyArn: ptr(pol), AdConfigurationArn: ptr(ad),
	})
	assert.Equal(t, rc, *out.Channel.RecordingConfigurationArn)
	assert.Equal(t, pol, *out.Channel.PlaybackRestrictionPolicyArn)
	assert.Equal(t, ad, *out.Channel.AdConfigurationArn)

	// A reference of the wrong type is not found either.
	_, err := e.svc.CreateChannel(t.Context(), &ivsapi.CreateChannelRequest{RecordingConfigurationArn: ptr(pol)})
	requireNotFound(t, err, pol)
}

func TestUpdateChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rc := e.createRecording(t)
	created := e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("before"), Authorized: ptr(true), Tags: map[string]string{"a": "b"}}).Channel
	arn := created.Arn

	// Absent members are unchanged.
	out, err := e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, Name: ptr("after"), RecordingConfigurationArn: ptr(rc)})
	require.NoError(t, err)
	want := *created
	want.Name = ptr("after")
	want.RecordingConfigurationArn = ptr(rc)
	assert.Equal(t, &want, out.Channel)

	// Switching to an advanced type fills the preset; back to standard clears it.
	out, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, Type: ptr("ADVANCED_SD")})
	require.NoError(t, err)
	assert.Equal(t, "HIGHER_BANDWIDTH_DELIVERY", *out.Channel.Preset)
	out, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, Type: ptr("STANDARD")})
	require.NoError(t, err)
	assert.Equal(t, "", *out.Channel.Preset)

	// An empty ARN disables recording; an unknown one is not found.
	out, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, RecordingConfigurationArn: ptr("")})
	require.NoError(t, err)
	assert.Equal(t, "", *out.Channel.RecordingConfigurationArn)
	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, AdConfigurationArn: ptr(missingARN("ad-configuration"))})
	requireNotFound(t, err, "ad-configuration/doesNotExist")

	// Cross-field rules apply to the merged channel.
	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, Preset: ptr("HIGHER_BANDWIDTH_DELIVERY")})
	requireValidation(t, err)

	// Persisted, and still private and tagged.
	got, err := e.svc.GetChannel(t.Context(), &ivsapi.GetChannelRequest{Arn: arn})
	require.NoError(t, err)
	assert.Equal(t, "after", *got.Channel.Name)
	assert.True(t, *got.Channel.Authorized)
	assert.Equal(t, map[string]string{"a": "b"}, got.Channel.Tags)

	// A live channel cannot be updated.
	e.live.GoLive(*arn, "HEALTHY")
	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: arn, Name: ptr("x")})
	requireConflict(t, err)

	_, err = e.svc.UpdateChannel(t.Context(), &ivsapi.UpdateChannelRequest{Arn: ptr(missingARN("channel"))})
	requireNotFound(t, err, "")
}

func TestDeleteChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.createChannel(t, nil)
	arn := out.Channel.Arn
	require.NoError(t, e.svc.RecordStreamSession(t.Context(), *arn, session(model.NewStreamID(), 0)))
	_, err := e.svc.StartViewerSessionRevocation(t.Context(), &ivsapi.StartViewerSessionRevocationRequest{ChannelArn: arn, ViewerId: ptr("v1")})
	require.NoError(t, err)

	e.live.GoLive(*arn, "HEALTHY")
	requireConflict(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: arn}))
	_, err = e.svc.StopStream(t.Context(), &ivsapi.StopStreamRequest{ChannelArn: arn})
	require.NoError(t, err)

	require.NoError(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: arn}))
	_, err = e.svc.GetChannel(t.Context(), &ivsapi.GetChannelRequest{Arn: arn})
	requireNotFound(t, err, *arn)
	// Children went with it.
	_, err = e.svc.GetStreamKey(t.Context(), &ivsapi.GetStreamKeyRequest{Arn: out.StreamKey.Arn})
	requireNotFound(t, err, "")
	_, err = e.svc.ChannelForStreamKey(t.Context(), *out.StreamKey.Value)
	requireNotFound(t, err, "")
	n, err := e.store.Count(t.Context(), "stream-session", *arn)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, found, err := e.svc.RevokedViewerVersion(t.Context(), *arn, "v1")
	require.NoError(t, err)
	assert.False(t, found)

	requireNotFound(t, e.svc.DeleteChannel(t.Context(), &ivsapi.DeleteChannelRequest{Arn: arn}), *arn)
}

func TestBatchGetChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("a")}).Channel
	b := e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("b")}).Channel
	missing := missingARN("channel")

	out, err := e.svc.BatchGetChannel(t.Context(), &ivsapi.BatchGetChannelRequest{Arns: []string{*a.Arn, missing, *b.Arn, *a.Arn}})
	require.NoError(t, err)
	assert.Equal(t, []ivsapi.Channel{*a, *b}, out.Channels)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, missing, *out.Errors[0].Arn)
	assert.Equal(t, "ResourceNotFoundException", *out.Errors[0].Code)
	assert.Contains(t, *out.Errors[0].Message, missing)
}

func TestListChannelsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rc, pol, ad := e.createRecording(t), e.createRestriction(t), e.createAdConfig(t)
	plain := *e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("plain")}).Channel.Arn
	named := *e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("show")}).Channel.Arn
	named2 := *e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("show"), RecordingConfigurationArn: ptr(rc)}).Channel.Arn
	prefixed := *e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr("show-2")}).Channel.Arn
	withPol := *e.createChannel(t, &ivsapi.CreateChannelRequest{PlaybackRestrictionPolicyArn: ptr(pol)}).Channel.Arn
	withAd := *e.createChannel(t, &ivsapi.CreateChannelRequest{AdConfigurationArn: ptr(ad)}).Channel.Arn

	tests := []struct {
		name    string
		in      ivsapi.ListChannelsRequest
		want    []string
		wantErr string
	}{
		{name: "no filter lists all", want: []string{plain, named, named2, prefixed, withPol, withAd}},
		{name: "name is an exact match", in: ivsapi.ListChannelsRequest{FilterByName: ptr("show")}, want: []string{named, named2}},
		{name: "unknown name", in: ivsapi.ListChannelsRequest{FilterByName: ptr("sho")}, want: []string{}},
		{name: "recording configuration", in: ivsapi.ListChannelsRequest{FilterByRecordingConfigurationArn: ptr(rc)}, want: []string{named2}},
		{name: "playback restriction policy", in: ivsapi.ListChannelsRequest{FilterByPlaybackRestrictionPolicyArn: ptr(pol)}, want: []string{withPol}},
		{name: "ad configuration", in: ivsapi.ListChannelsRequest{FilterByAdConfigurationArn: ptr(ad)}, want: []string{withAd}},
		{name: "empty filter counts as unset", in: ivsapi.ListChannelsRequest{FilterByName: ptr("show"), FilterByRecordingConfigurationArn: ptr("")}, want: []string{named, named2}},
		{name: "two filters conflict", in: ivsapi.ListChannelsRequest{FilterByName: ptr("show"), FilterByRecordingConfigurationArn: ptr(rc)}, wantErr: "Conflict"},
		{name: "other pair conflicts", in: ivsapi.ListChannelsRequest{FilterByPlaybackRestrictionPolicyArn: ptr(pol), FilterByAdConfigurationArn: ptr(ad)}, wantErr: "Conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := e.svc.ListChannels(t.Context(), &tc.in)
			require.Equal(t, tc.wantErr, errorKind(err))
			if tc.wantErr != "" {
				return
			}
			got := []string{}
			for _, c := range out.Channels {
				got = append(got, *c.Arn)
				// Summaries carry every member.
				for _, p := range []*string{c.Name, c.LatencyMode, c.Type, c.Preset, c.RecordingConfigurationArn, c.PlaybackRestrictionPolicyArn, c.AdConfigurationArn} {
					assert.NotNil(t, p)
				}
				assert.NotNil(t, c.Tags)
			}
			assert.Equal(t, tc.want, got)
			assert.Nil(t, out.NextToken)
		})
	}
}

func TestListChannelsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const total = 250
	want := map[string]bool{}
	for i := range total {
		want[*e.createChannel(t, &ivsapi.CreateChannelRequest{Name: ptr(fmt.Sprintf("c%03d", i))}).Channel.Arn] = true
	}

	seen := map[string]bool{}
	var sizes []int
	var token *string
	for {
		out, err := e.svc.ListChannels(t.Context(), &ivsapi.ListChannelsRequest{MaxResults: ptr(int64(100)), NextToken: token})
		require.NoError(t, err)
		sizes = append(sizes, len(out.Channels))
		for _, c := range out.Channels {
			require.False(t, seen[*c.Arn], "duplicate %s", *c.Arn)
			seen[*c.Arn] = true
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	assert.Equal(t, []int{100, 100, 50}, sizes)
	assert.Equal(t, want, seen)

	// The default page is 100.
	out, err := e.svc.ListChannels(t.Context(), &ivsapi.ListChannelsRequest{})
	require.NoError(t, err)
	assert.Len(t, out.Channels, 100)
	assert.NotNil(t, out.NextToken)

	_, err = e.svc.ListChannels(t.Context(), &ivsapi.ListChannelsRequest{NextToken: ptr("garbage")})
	requireValidation(t, err)
}
