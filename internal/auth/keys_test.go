package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stagecast/stagecast/internal/auth"
)

var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func pemOf(t testing.TB, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkixPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("marshal pkix: %v", err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}

func TestPrivateKeyPEMRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	pkcs8, err := auth.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"pkcs8":      pkcs8,
		"sec1":       []byte(pemOf(t, "EC PRIVATE KEY", sec1)),
		"pkcs8 crlf": []byte(strings.ReplaceAll(string(pkcs8), "\n", "\r\n")),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParsePrivateKeyPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Fatal("parsed key differs")
			}
		})
	}
}

func TestParsePrivateKeyPEMRejects(t *testing.T) {
	t.Parallel()
	p256, err := x509.MarshalPKCS8PrivateKey(newP256Key(t))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := auth.MarshalPublicKeyPEM(&newKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ in, msg string }{
		"empty":      {"", "empty key material"},
		"garbage":    {"hello", "not PEM"},
		"p-256":      {pemOf(t, "PRIVATE KEY", p256), "curve P-256 is not supported: use P-384"},
		"public key": {pubPEM, "got a public key"},
		"bad der":    {pemOf(t, "EC PRIVATE KEY", []byte{1, 2, 3}), "parse ec private key"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.ParsePrivateKeyPEM([]byte(tt.in))
			if !errors.Is(err, auth.ErrInvalidKey) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error = %v, want ErrInvalidKey mentioning %q", err, tt.msg)
			}
		})
	}
	if _, err := auth.MarshalPrivateKeyPEM(nil); !errors.Is(err, auth.ErrInvalidKey) {
		t.Fatalf("MarshalPrivateKeyPEM(nil) error = %v", err)
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	good, err := auth.MarshalPublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(good, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("unexpected PEM: %q", good)
	}
	rk, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := auth.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		msg  string // "" means success
	}{
		{"lf", good, ""},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), ""},
		{"surrounding whitespace", "\n\n  " + good + "\n\t", ""},
		{"no trailing newline", strings.TrimSpace(good), ""},
		{"empty", "   ", "empty key material"},
		{"not pem", "ssh-ecdsa AAAA", "not PEM"},
		{"two blocks", good + good, "exactly one block"},
		{"trailing junk", good + "junk", "exactly one block"},
		{"p-256", pkixPEM(t, &newP256Key(t).PublicKey), "curve P-256 is not supported: use P-384"},
		{"rsa pkix", pkixPEM(t, &rk.PublicKey), "not an EC public key (got RSA)"},
		{"rsa pkcs1", pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey)), "not an EC public key (got RSA)"},
		{"ed25519", pkixPEM(t, edPub), "not an EC public key (got Ed25519)"},
		{"private key", string(privPEM), "got a private key"},
		{"certificate", pemOf(t, "CERTIFICATE", []byte{0x30, 0}), `unexpected PEM block "CERTIFICATE"`},
		{"bad der", pemOf(t, "PUBLIC KEY", []byte{0x30, 0x03, 1, 2, 3}), "parse public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub, err := auth.ParsePublicKeyPEM(tt.in)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !pub.Equal(&key.PublicKey) {
					t.Fatal("parsed key differs")
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidKey) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error = %v, want ErrInvalidKey mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestMarshalPublicKeyPEMRejectsP256(t *testing.T) {
	t.Parallel()
	if _, err := auth.MarshalPublicKeyPEM(&newP256Key(t).PublicKey); !errors.Is(err, auth.ErrInvalidKey) {
		t.Fatalf("error = %v, want ErrInvalidKey", err)
	}
	if _, err := auth.MarshalPublicKeyPEM(nil); !errors.Is(err, auth.ErrInvalidKey) {
		t.Fatalf("error = %v, want ErrInvalidKey", err)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`)
	k1, k2 := newKey(t), newKey(t)
	f1 := auth.Fingerprint(&k1.PublicKey)
	if !re.MatchString(f1) {
		t.Fatalf("fingerprint %q does not match %s", f1, re)
	}
	// Stable across calls and across a PEM round trip.
	material, err := auth.MarshalPublicKeyPEM(&k1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := auth.ParsePublicKeyPEM(material)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Fingerprint(&k1.PublicKey) != f1 || auth.Fingerprint(parsed) != f1 {
		t.Fatal("fingerprint is not stable")
	}
	if auth.Fingerprint(&k2.PublicKey) == f1 {
		t.Fatal("different keys share a fingerprint")
	}
	if got := auth.Fingerprint(nil); got != "" {
		t.Fatalf("Fingerprint(nil) = %q", got)
	}
	if got := auth.Fingerprint(&ecdsa.PublicKey{}); got != "" {
		t.Fatalf("Fingerprint(zero key) = %q", got)
	}
}

func TestFingerprintKnownVector(t *testing.T) {
	t.Parallel()
	// MD5 over the SubjectPublicKeyInfo DER, computed independently.
	key := newKey(t)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	want := md5Colon(der)
	if got := auth.Fingerprint(&key.PublicKey); got != want {
		t.Fatalf("Fingerprint = %q, want %q", got, want)
	}
}
