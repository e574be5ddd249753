package auth_test

import (
	"crypto/ecdsa"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stagecast/stagecast/internal/auth"
)

const testChannelARN = "arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234"

func TestPlaybackRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	in := auth.PlaybackClaims{
		ChannelARN:              testChannelARN,
		AllowOrigin:             "https://*.example.com,https://example.org",
		StrictOriginEnforcement: true,
		SingleUseUUID:           "0f3c1e2a-7b6d-4c1e-9a2b-3c4d5e6f7a8b",
		ViewerID:                "viewer-1",
		ViewerSessionVersion:    3,
		IssuedAt:                testNow,
		ExpiresAt:               testNow.Add(5 * time.Minute),
	}
	token, err := auth.SignPlayback(key, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := auth.VerifyPlayback(token, testChannelARN, []*ecdsa.PublicKey{&newKey(t).PublicKey, &key.PublicKey}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("claims mismatch\n got %#v\nwant %#v", out, in)
	}
	// Independent check of the wire format.
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES384"}), jwt.WithTimeFunc(func() time.Time { return testNow }))
	if err != nil {
		t.Fatalf("jwt/v5 rejects playback token: %v", err)
	}
	mc := parsed.Claims.(jwt.MapClaims)
	if mc["aws:channel-arn"] != testChannelARN || mc["aws:strict-origin-enforcement"] != true ||
		mc["aws:viewer-session-version"] != float64(3) {
		t.Fatalf("claims = %v", mc)
	}
}

func TestVerifyPlayback(t *testing.T) {
	t.Parallel()
	key, other := newKey(t), newKey(t)
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	sign := func(mutate func(*auth.PlaybackClaims)) string {
		c := auth.PlaybackClaims{ChannelARN: testChannelARN, ExpiresAt: testNow.Add(time.Hour)}
		mutate(&c)
		token, err := auth.SignPlayback(key, c)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	good := sign(func(*auth.PlaybackClaims) {})
	// Customers sign with any JWT library; kid is optional and ignored.
	withKid := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{
		"aws:channel-arn": testChannelARN, "exp": testNow.Add(time.Hour).Unix(),
	})
	withKid.Header["kid"] = "whatever"
	withKidToken, err := withKid.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	es256, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aws:channel-arn": testChannelARN, "exp": testNow.Add(time.Hour).Unix(),
	}).SignedString(newP256Key(t))
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"alg": "ES384", "typ": "JWT"}
	noARN := forgeES384(t, key, hdr, map[string]any{"exp": testNow.Add(time.Hour).Unix()})
	noExp := forgeES384(t, key, hdr, map[string]any{"aws:channel-arn": testChannelARN})
	fracVersion := forgeES384(t, key, hdr, map[string]any{
		"aws:channel-arn": testChannelARN, "exp": testNow.Add(time.Hour).Unix(), "aws:viewer-session-version": 1.5,
	})
	sixOrigins := strings.Repeat("https://a.example,", 5) + "https://b.example"

	tests := []struct {
		name  string
		token string
		keys  []*ecdsa.PublicKey
		want  error
	}{
		{"good", good, nil, nil},
		{"kid ignored", withKidToken, nil, nil},
		{"no token", "", nil, auth.ErrTokenMalformed},
		{"bad token", "not.a.jwt", nil, auth.ErrTokenMalformed},
		{"es256", es256, nil, auth.ErrTokenMalformed},
		{"wrong key", good, []*ecdsa.PublicKey{&other.PublicKey}, auth.ErrTokenSignature},
		{"no keys", good, []*ecdsa.PublicKey{}, auth.ErrTokenSignature},
		{"expired", sign(func(c *auth.PlaybackClaims) { c.ExpiresAt = testNow.Add(-time.Second) }), nil, auth.ErrTokenExpired},
		{"wrong channel", sign(func(c *auth.PlaybackClaims) { c.ChannelARN += "x" }), nil, auth.ErrTokenClaims},
		{"no channel", noARN, nil, auth.ErrTokenClaims},
		{"no exp", noExp, nil, auth.ErrTokenClaims},
		{"fractional session version", fracVersion, nil, auth.ErrTokenClaims},
		{"viewer id 40", sign(func(c *auth.PlaybackClaims) {
			c.ViewerID, c.ExpiresAt = strings.Repeat("v", 40), testNow.Add(10*time.Minute)
		}), nil, nil},
		{"viewer id 41", sign(func(c *auth.PlaybackClaims) {
			c.ViewerID, c.ExpiresAt = strings.Repeat("v", 41), testNow.Add(10*time.Minute)
		}), nil, auth.ErrTokenClaims},
		{"viewer id long exp", sign(func(c *auth.PlaybackClaims) { c.ViewerID = "v" }), nil, auth.ErrTokenClaims},
		{"single use long exp", sign(func(c *auth.PlaybackClaims) {
			c.SingleUseUUID = "0f3c1e2a-7b6d-4c1e-9a2b-3c4d5e6f7a8b"
		}), nil, auth.ErrTokenClaims},
		{"single use short exp", sign(func(c *auth.PlaybackClaims) {
			c.SingleUseUUID, c.ExpiresAt = "0f3c1e2a-7b6d-4c1e-9a2b-3c4d5e6f7a8b", testNow.Add(9*time.Minute)
		}), nil, nil},
		{"single use not uuid", sign(func(c *auth.PlaybackClaims) {
			c.SingleUseUUID, c.ExpiresAt = "nope", testNow.Add(time.Minute)
		}), nil, auth.ErrTokenClaims},
		{"strict six origins", sign(func(c *auth.PlaybackClaims) {
			c.AllowOrigin, c.StrictOriginEnforcement = sixOrigins, true
		}), nil, auth.ErrTokenClaims},
		{"lax six origins", sign(func(c *auth.PlaybackClaims) { c.AllowOrigin = sixOrigins }), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := tt.keys
			if k == nil {
				k = keys
			}
			_, err := auth.VerifyPlayback(tt.token, testChannelARN, k, testNow)
			wantErr(t, err, tt.want)
		})
	}
}

func TestSignPlaybackRejects(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tests := []struct {
		name string
		key  *ecdsa.PrivateKey
		c    auth.PlaybackClaims
		want error
	}{
		{"nil key", nil, auth.PlaybackClaims{ChannelARN: testChannelARN, ExpiresAt: testNow}, auth.ErrInvalidKey},
		{"p-256 key", newP256Key(t), auth.PlaybackClaims{ChannelARN: testChannelARN, ExpiresAt: testNow}, auth.ErrInvalidKey},
		{"no channel", key, auth.PlaybackClaims{ExpiresAt: testNow}, auth.ErrTokenClaims},
		{"no exp", key, auth.PlaybackClaims{ChannelARN: testChannelARN}, auth.ErrTokenClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.SignPlayback(tt.key, tt.c)
			wantErr(t, err, tt.want)
		})
	}
}

func TestOriginAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allow  string
		origin string
		want   bool
	}{
		{"", "https://anything.test", true},
		{"*", "https://anything.test", true},
		{"*", "null", true},
		{"https://example.com", "https://example.com", true},
		{"https://example.com", "https://EXAMPLE.com", true},
		{"https://example.com/", "https://example.com", true},
		{"https://example.com", "http://example.com", false},
		{"https://example.com", "https://www.example.com", false},
		{"https://example.com", "https://example.com:8443", false},
		{"https://example.com", "null", false},
		{"https://example.com", "", false},
		{"https://*.example.com", "https://www.example.com", true},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://.example.com", false},
		{"https://*.example.com", "https://evilexample.com", false},
		{"https://*.example.com", "https://example.com.evil.com", false},
		{"https://*.example.com", "https://evil.com/.example.com", false},
		{"https://*.example.com", "https://user@x.example.com", false},
		{"https://*.example.com", "http://www.example.com", false},
		{"https://*.example.com", "https://www.example.com:8443", false},
		{"https://*.example.com:8443", "https://www.example.com:8443", true},
		{"https://a.test, https://*.example.com ,https://b.test", "https://x.example.com", true},
		{"https://a.test,https://b.test", "https://b.test", true},
		{"https://a.test,https://b.test", "https://c.test", false},
		{"*.example.com", "http://www.example.com", true},
		{"example.com", "https://example.com", true},
		{"https://*", "https://example.com", false},
	}
	for _, tt := range tests {
		c := auth.PlaybackClaims{AllowOrigin: tt.allow}
		if got := c.OriginAllowed(tt.origin); got != tt.want {
			t.Errorf("AllowOrigin %q, origin %q: got %v, want %v", tt.allow, tt.origin, got, tt.want)
		}
	}
}
