package auth

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey reports key material that cannot be used: not PEM, the
// wrong PEM block, not ECDSA, or not on P-384. It is always wrapped with the
// reason, e.g. "invalid key: curve P-256 is not supported: use P-384".
var ErrInvalidKey = errors.New("invalid key")

// PEM block types produced and accepted by this package.
const (
	pemPublicKey    = "PUBLIC KEY"      // PKIX SubjectPublicKeyInfo
	pemPrivateKey   = "PRIVATE KEY"     // PKCS #8
	pemECPrivateKey = "EC PRIVATE KEY"  // SEC 1 (openssl ecparam -genkey)
	pemRSAPublicKey = "RSA PUBLIC KEY"  // PKCS #1
	pemRSAPrivKey   = "RSA PRIVATE KEY" // PKCS #1
)

// GenerateKey returns a new ECDSA P-384 private key, the only curve used for
// participant and playback tokens (ES384).
func GenerateKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate p-384 key: %w", err)
	}
	return key, nil
}

// MarshalPrivateKeyPEM encodes key as a PKCS #8 "PRIVATE KEY" PEM block.
func MarshalPrivateKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("marshal private key: %w: missing private key", ErrInvalidKey)
	}
	if err := checkP384(&key.PublicKey); err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes a single ECDSA P-384 private key in either a
// PKCS #8 "PRIVATE KEY" or a SEC 1 "EC PRIVATE KEY" PEM block (the format
// written by `openssl ecparam -genkey`). Errors wrap ErrInvalidKey.
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, err := decodeSinglePEM(string(data))
	if err != nil {
		return nil, err
	}
	var parsed any
	switch block.Type {
	case pemPrivateKey:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemECPrivateKey:
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case pemRSAPrivKey:
		return nil, fmt.Errorf("%w: not an EC private key (got RSA)", ErrInvalidKey)
	case pemPublicKey:
		return nil, fmt.Errorf("%w: got a public key, want a private key", ErrInvalidKey)
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q, want %q or %q",
			ErrInvalidKey, block.Type, pemPrivateKey, pemECPrivateKey)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s: %v", ErrInvalidKey, strings.ToLower(block.Type), err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an EC private key (got %s)", ErrInvalidKey, keyKind(parsed))
	}
	if err := checkP384(&key.PublicKey); err != nil {
		return nil, err
	}
	return key, nil
}

// MarshalPublicKeyPEM encodes pub as a PKIX "PUBLIC KEY" PEM block, the
// format IVS returns as publicKeyMaterial.
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) (string, error) {
	if err := checkP384(pub); err != nil {
		return "", fmt.Errorf("marshal public key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("marshal public key: %w: %v", ErrInvalidKey, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der})), nil
}

// ParsePublicKeyPEM decodes exactly one PKIX "PUBLIC KEY" PEM block holding
// an ECDSA P-384 key, as accepted by ImportPublicKey and
// ImportPlaybackKeyPair. Surrounding whitespace and CRLF line endings are
// accepted; anything else (extra blocks, private keys, RSA/Ed25519 keys,
// other curves) is rejected with an error wrapping ErrInvalidKey.
func ParsePublicKeyPEM(material string) (*ecdsa.PublicKey, error) {
	block, err := decodeSinglePEM(material)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case pemPublicKey:
	case pemRSAPublicKey:
		return nil, fmt.Errorf("%w: not an EC public key (got RSA)", ErrInvalidKey)
	case pemPrivateKey, pemECPrivateKey, pemRSAPrivKey:
		return nil, fmt.Errorf("%w: got a private key (%q), want the public key (%q)",
			ErrInvalidKey, block.Type, pemPublicKey)
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q, want %q", ErrInvalidKey, block.Type, pemPublicKey)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: parse public key: %v", ErrInvalidKey, err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an EC public key (got %s)", ErrInvalidKey, keyKind(parsed))
	}
	if err := checkP384(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// Fingerprint returns the IVS-style fingerprint of pub: the MD5 digest of
// its DER SubjectPublicKeyInfo as 16 lower-case hex byte pairs joined by
// ':' (e.g. 98:0d:1a:a0:19:96:1e:ea:0a:0a:2c:9a:42:19:2b:e7). It returns ""
// if pub cannot be encoded.
func Fingerprint(pub *ecdsa.PublicKey) string {
	if pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	const digits = "0123456789abcdef"
	sum := md5.Sum(der)
	out := make([]byte, 0, len(sum)*3-1)
	for i, b := range sum {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[b>>4], digits[b&0x0f])
	}
	return string(out)
}

// decodeSinglePEM decodes material that must consist of exactly one PEM
// block, optionally surrounded by whitespace.
func decodeSinglePEM(material string) (*pem.Block, error) {
	material = strings.TrimSpace(strings.ReplaceAll(material, "\r\n", "\n"))
	if material == "" {
		return nil, fmt.Errorf("%w: empty key material", ErrInvalidKey)
	}
	block, rest := pem.Decode([]byte(material))
	if block == nil {
		return nil, fmt.Errorf("%w: not PEM", ErrInvalidKey)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("%w: unexpected data after the PEM block (want exactly one block)", ErrInvalidKey)
	}
	return block, nil
}

// checkP384 reports whether pub is a usable ECDSA key on P-384.
func checkP384(pub any) error {
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key == nil || key.Curve == nil || key.X == nil || key.Y == nil {
		return fmt.Errorf("%w: missing EC public key", ErrInvalidKey)
	}
	if key.Curve != elliptic.P384() {
		name := "unknown"
		if p := key.Curve.Params(); p != nil && p.Name != "" {
			name = p.Name
		}
		return fmt.Errorf("%w: curve %s is not supported: use P-384", ErrInvalidKey, name)
	}
	return nil
}

// keyKind names the algorithm of a parsed key for error messages.
func keyKind(key any) string {
	switch key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RSA"
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "Ed25519"
	case *ecdh.PublicKey, *ecdh.PrivateKey:
		return "X25519"
	default:
		return fmt.Sprintf("%T", key)
	}
}
