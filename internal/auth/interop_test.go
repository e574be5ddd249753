package auth_test

import (
	"crypto/ecdsa"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stagecast/stagecast/internal/auth"
)

// These tests cross-check the hand-written JWT code against an independent
// implementation, github.com/golang-jwt/jwt/v5: tokens we mint must verify
// there, and tokens users sign offline with it must verify here.

// jwtClaims returns sampleClaims in the wire form, for signing with jwt/v5.
func jwtClaims() jwt.MapClaims {
	c := sampleClaims()
	return jwt.MapClaims{
		"exp": c.ExpiresAt.Unix(), "iat": c.IssuedAt.Unix(), "jti": c.ParticipantID,
		"resource": c.StageARN, "topic": c.StageID, "events_url": c.EventsURL, "whip_url": c.WhipURL,
		"user_id": c.UserID, "attributes": c.Attributes, "version": "1.0",
		"capabilities": map[string]bool{"allow_publish": c.Publish, "allow_subscribe": c.Subscribe},
	}
}

func TestMintedTokenVerifiesWithJWTLibrary(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	token, err := auth.NewTokenSigner(key, "kid-7").MintParticipant(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		if tok.Header["kid"] != "kid-7" {
			t.Errorf("kid header = %v", tok.Header["kid"])
		}
		return &key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES384"}), jwt.WithTimeFunc(func() time.Time { return testNow }),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithStrictDecoding())
	if err != nil {
		t.Fatalf("jwt/v5 rejects minted token: %v", err)
	}
	mc := parsed.Claims.(jwt.MapClaims)
	want := sampleClaims()
	if mc["jti"] != want.ParticipantID || mc["resource"] != want.StageARN || mc["user_id"] != want.UserID {
		t.Fatalf("claims = %v", mc)
	}
	attrs, _ := mc["attributes"].(map[string]any)
	if attrs["displayName"] != want.Attributes["displayName"] {
		t.Fatalf("attribute escaping broke: got %q want %q", attrs["displayName"], want.Attributes["displayName"])
	}
}

func TestJWTLibraryTokenVerifies(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	for _, kid := range []string{"", "imported-key"} {
		tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwtClaims())
		if kid != "" {
			tok.Header["kid"] = kid
		}
		token, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		var gotKid = "unset"
		out, err := auth.VerifyParticipant(token, func(k string) ([]*ecdsa.PublicKey, error) {
			gotKid = k
			return []*ecdsa.PublicKey{&newKey(t).PublicKey, &key.PublicKey}, nil
		}, testNow)
		if err != nil {
			t.Fatalf("kid %q: offline token rejected: %v", kid, err)
		}
		if gotKid != kid {
			t.Errorf("resolver got kid %q, want %q", gotKid, kid)
		}
		want := sampleClaims()
		if !reflect.DeepEqual(out, want) {
			t.Fatalf("claims mismatch\n got %#v\nwant %#v", out, want)
		}
	}
}
