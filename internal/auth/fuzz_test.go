package auth_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stagecast/stagecast/internal/auth"
)

func FuzzVerifyParticipant(f *testing.F) {
	key := newKey(f)
	token, err := auth.NewTokenSigner(key, "kid").MintParticipant(sampleClaims())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add(token[:len(token)-10])
	f.Add(strings.Replace(token, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	resolve := resolverFor(&key.PublicKey)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := auth.VerifyParticipant(token, resolve, testNow)
		if err != nil {
			requireTokenError(t, err)
			return
		}
		if c.ParticipantID == "" || c.StageARN == "" || !c.ExpiresAt.After(testNow) {
			t.Fatalf("accepted token with invalid claims: %#v", c)
		}
	})
}

func FuzzParsePublicKeyPEM(f *testing.F) {
	key := newKey(f)
	good, err := auth.MarshalPublicKeyPEM(&key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	p256, err := x509.MarshalPKIXPublicKey(&newP256Key(f).PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(strings.ReplaceAll(good, "\n", "\r\n"))
	f.Add(good + good)
	f.Add(pemOf(f, "PUBLIC KEY", p256))
	f.Add("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")
	f.Add("not a key")
	fp := regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`)
	f.Fuzz(func(t *testing.T, material string) {
		pub, err := auth.ParsePublicKeyPEM(material)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if pub.Curve.Params().Name != "P-384" {
			t.Fatalf("accepted curve %s", pub.Curve.Params().Name)
		}
		if _, err := auth.MarshalPublicKeyPEM(pub); err != nil {
			t.Fatalf("accepted key does not re-marshal: %v", err)
		}
		if !fp.MatchString(auth.Fingerprint(pub)) {
			t.Fatalf("bad fingerprint for accepted key")
		}
	})
}

// FuzzVerifyPlayback signs arbitrary claim payloads with a key the verifier
// trusts, so the fuzzer reaches what runs after the signature check: claim
// decoding and every limit. A token it accepts must meet all of them, and
// the origin check must answer for any request Origin.
func FuzzVerifyPlayback(f *testing.F) {
	const channel = "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCDefgh"
	key := newKey(f)
	exp := testNow.Add(5 * time.Minute).Unix()
	for _, p := range []string{
		`{"aws:channel-arn":"` + channel + `","exp":` + itoa(exp) + `}`,
		`{"aws:channel-arn":"` + channel + `","exp":` + itoa(exp) + `,"iat":1759999990,"aws:viewer-id":"v1",` +
			`"aws:single-use-uuid":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","aws:viewer-session-version":3}`,
		`{"aws:channel-arn":"` + channel + `","exp":` + itoa(exp) + `,"aws:strict-origin-enforcement":true,` +
			`"aws:access-control-allow-origin":"https://*.example.com,http://a.b:8080,*"}`,
		`{"aws:channel-arn":"` + channel + `","exp":1e400}`,
		`{"aws:channel-arn":"` + channel + `","exp":"soon"}`,
		`{"aws:channel-arn":null}`,
		`[]`,
		``,
	} {
		f.Add(p, "https://a.example.com")
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES384","typ":"JWT"}`))
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	f.Fuzz(func(t *testing.T, payload, origin string) {
		token := signCompact(t, key, header+"."+base64.RawURLEncoding.EncodeToString([]byte(payload)))
		c, err := auth.VerifyPlayback(token, channel, keys, testNow)
		if err != nil {
			requireTokenError(t, err)
			return
		}
		restricted := c.SingleUseUUID != "" || c.ViewerID != ""
		switch {
		case c.ChannelARN != channel:
			t.Fatalf("accepted a token for channel %q", c.ChannelARN)
		case !c.ExpiresAt.After(testNow):
			t.Fatalf("accepted a token that expired at %v", c.ExpiresAt)
		case utf8.RuneCountInString(c.ViewerID) > auth.MaxViewerIDLength:
			t.Fatalf("accepted viewer id %q", c.ViewerID)
		case restricted && c.ExpiresAt.After(testNow.Add(auth.MaxRestrictedPlaybackTokenLifetime)):
			t.Fatalf("accepted a restricted token living until %v", c.ExpiresAt)
		}
		if allowed := c.OriginAllowed(origin); !allowed && strings.TrimSpace(c.AllowOrigin) == "" {
			t.Fatalf("no allow-origin claim, yet origin %q refused", origin)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// requireTokenError fails t unless err wraps one of the token sentinels a
// verifier may return.
func requireTokenError(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{auth.ErrTokenMalformed, auth.ErrTokenSignature, auth.ErrTokenExpired, auth.ErrTokenClaims} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps no sentinel", err)
}
