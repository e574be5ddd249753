package live_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/live"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

func TestAccessPrivateChannel(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	require.NoError(t, err)
	defer st.Close()
	svc := channels.New(control.Deps{Store: st, Identity: identity})
	priv, err := svc.CreateChannel(ctx, &ivsapi.CreateChannelRequest{Name: ptr("private"), Authorized: ptr(true)})
	require.NoError(t, err)
	other, err := svc.CreateChannel(ctx, &ivsapi.CreateChannelRequest{Name: ptr("other"), Authorized: ptr(true)})
	require.NoError(t, err)
	public, err := svc.CreateChannel(ctx, &ivsapi.CreateChannelRequest{Name: ptr("public")})
	require.NoError(t, err)
	arn := *priv.Channel.Arn

	now := time.Now()
	access := live.NewAccess(svc, func() time.Time { return now })
	get := func(arn, token, origin string) error {
		r := httptest.NewRequest("GET", "/x.m3u8?token="+token, nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return access.Authorize(r, arn)
	}
	require.NoError(t, get(*public.Channel.Arn, "", ""), "public channels need no token")
	require.ErrorIs(t, get(arn, "", ""), live.ErrForbidden)

	key, err := auth.GenerateKey()
	require.NoError(t, err)
	pemText, err := auth.MarshalPublicKeyPEM(&key.PublicKey)
	require.NoError(t, err)
	_, err = svc.ImportPlaybackKeyPair(ctx, &ivsapi.ImportPlaybackKeyPairRequest{PublicKeyMaterial: &pemText})
	require.NoError(t, err)
	sign := func(c auth.PlaybackClaims) string {
		tok, err := auth.SignPlayback(key, c)
		require.NoError(t, err)
		return tok
	}
	good := sign(auth.PlaybackClaims{ChannelARN: arn, ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, get(arn, good, ""))
	require.NoError(t, get(arn, good, ""), "cached")

	err = get(arn, "not-a-jwt", "")
	require.ErrorIs(t, err, live.ErrForbidden)
	require.ErrorIs(t, get(*other.Channel.Arn, good, ""), live.ErrForbidden, "token for another channel")
	expired := sign(auth.PlaybackClaims{ChannelARN: arn, ExpiresAt: now.Add(time.Minute)})
	now = now.Add(2 * time.Minute)
	err = get(arn, expired, "")
	require.ErrorIs(t, err, live.ErrForbidden)

	otherKey, err := auth.GenerateKey()
	require.NoError(t, err)
	forged, err := auth.SignPlayback(otherKey, auth.PlaybackClaims{ChannelARN: arn, ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, err)
	require.ErrorIs(t, get(arn, forged, ""), live.ErrForbidden)

	originTok := sign(auth.PlaybackClaims{ChannelARN: arn, AllowOrigin: "https://a.example.com", ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, get(arn, originTok, "https://a.example.com"))
	require.ErrorIs(t, get(arn, originTok, "https://evil.example.com"), live.ErrForbidden)

	viewer := sign(auth.PlaybackClaims{ChannelARN: arn, ViewerID: "v1", ViewerSessionVersion: 1, ExpiresAt: now.Add(5 * time.Minute)})
	require.NoError(t, get(arn, viewer, ""))
	_, err = svc.StartViewerSessionRevocation(ctx, &ivsapi.StartViewerSessionRevocationRequest{ChannelArn: &arn, ViewerId: ptr("v1"), ViewerSessionVersionsLessThanOrEqualTo: ptr(int64(1))})
	require.NoError(t, err)
	require.ErrorIs(t, get(arn, viewer, ""), live.ErrForbidden, "revoked viewer")

	pol, err := svc.CreatePlaybackRestrictionPolicy(ctx, &ivsapi.CreatePlaybackRestrictionPolicyRequest{AllowedOrigins: []string{"https://shop.example.com"}})
	require.NoError(t, err)
	_, err = svc.UpdateChannel(ctx, &ivsapi.UpdateChannelRequest{Arn: public.Channel.Arn, PlaybackRestrictionPolicyArn: pol.PlaybackRestrictionPolicy.Arn})
	require.NoError(t, err)
	now = now.Add(2 * time.Second) // past the channel cache
	require.NoError(t, get(*public.Channel.Arn, "", "https://shop.example.com"))
	require.ErrorIs(t, get(*public.Channel.Arn, "", "https://elsewhere.example.com"), live.ErrForbidden)
}
