package auth_test

import (
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"testing"

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
	sentinels := []error{auth.ErrTokenMalformed, auth.ErrTokenSignature, auth.ErrTokenExpired, auth.ErrTokenClaims}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := auth.VerifyParticipant(token, resolve, testNow)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
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
