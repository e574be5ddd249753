package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
)

// testNow is the fixed verification time used throughout the tests.
var testNow = time.Unix(1_760_000_000, 0)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return key
}

func newP256Key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate p-256 key: %v", err)
	}
	return key
}

// resolverFor returns a KeyResolver that always yields keys.
func resolverFor(keys ...*ecdsa.PublicKey) auth.KeyResolver {
	return func(string) ([]*ecdsa.PublicKey, error) { return keys, nil }
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// forgeES384 builds a compact JWS with arbitrary header and payload and a
// genuine ES384 signature by key, independently of the package under test.
func forgeES384(t testing.TB, key *ecdsa.PrivateKey, header, payload any) string {
	t.Helper()
	return signCompact(t, key, b64json(t, header)+"."+b64json(t, payload))
}

// signCompact appends a genuine ES384 signature by key to a JWS signing
// input ("header.payload", both already base64url-encoded).
func signCompact(t testing.TB, key *ecdsa.PrivateKey, input string) string {
	t.Helper()
	digest := sha512.Sum384([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// wantErr fails t unless err matches want (nil meaning success).
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func md5Colon(b []byte) string {
	sum := md5.Sum(b)
	parts := make([]string, len(sum))
	for i, x := range sum {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}
