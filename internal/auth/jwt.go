package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Token verification errors. Every error returned by VerifyParticipant and
// VerifyPlayback wraps exactly one of these (test with errors.Is) together
// with a human-readable detail.
var (
	// ErrTokenMalformed: not a compact JWS, bad base64 or JSON, unsupported
	// header (alg other than ES384, crit), or larger than MaxTokenBytes.
	ErrTokenMalformed = errors.New("malformed token")
	// ErrTokenSignature: no key available, or the signature does not verify
	// with any of the candidate keys.
	ErrTokenSignature = errors.New("invalid token signature")
	// ErrTokenExpired: the exp claim is not after the verification time.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenClaims: a required claim is missing, or a claim has the wrong
	// type or violates a limit.
	ErrTokenClaims = errors.New("invalid token claims")
)

// MaxTokenBytes bounds the size of a token accepted for verification (and
// produced by minting). A participant token at the IVS limits (1 KiB of
// attributes, a 128-character user id, ARN and URLs) is about 2 KiB, and
// under 4 KiB even if every attribute byte needs a two-byte JSON escape.
// 8 KiB leaves headroom for offline-signed tokens with extra claims, caps
// the base64 and JSON work an unauthenticated caller can trigger before the
// signature check, and fits the common 8 KiB HTTP header limit of proxies
// that tokens pass through (Authorization: Bearer, query strings). Only
// attributes made of control characters, which JSON escapes sixfold, can
// exceed it within the IVS limits; MintParticipant rejects those with
// ErrTokenClaims.
const MaxTokenBytes = 8192

// MaxIssuedAtSkew is how far in the future an iat claim may lie, to tolerate
// clock skew between the token issuer and this server.
const MaxIssuedAtSkew = 60 * time.Second

const (
	algES384     = "ES384"
	es384KeySize = 48               // bytes per coordinate / scalar on P-384
	es384SigSize = 2 * es384KeySize // JWS signature: r || s
)

// b64 is the JWS segment encoding. Strict decoding rejects non-canonical
// trailing bits; encoding is identical to base64.RawURLEncoding.
var b64 = base64.RawURLEncoding.Strict()

// signES384 computes the JWS ES384 signature (r || s, each left-padded to 48
// bytes) of signingInput.
func signES384(key *ecdsa.PrivateKey, signingInput []byte, out *[es384SigSize]byte) error {
	digest := sha512.Sum384(signingInput)
	// SignASN1 is what ecdsa.Sign uses internally; unpacking its DER output
	// here avoids the two big.Int allocations of ecdsa.Sign.
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	seq, rest, ok := readDER(der, 0x30)
	if !ok || len(rest) != 0 {
		return errors.New("sign token: malformed ecdsa signature")
	}
	r, seq, okR := readDER(seq, 0x02)
	s, seq, okS := readDER(seq, 0x02)
	if !okR || !okS || len(seq) != 0 || !putScalar(out[:es384KeySize], r) || !putScalar(out[es384KeySize:], s) {
		return errors.New("sign token: malformed ecdsa signature")
	}
	return nil
}

// readDER reads one DER element with the given tag and returns its content.
// Only the length forms a P-384 signature can use are supported.
func readDER(b []byte, tag byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, b := int(b[1]), b[2:]
	if n >= 0x80 {
		if n != 0x81 || len(b) == 0 {
			return nil, nil, false
		}
		n, b = int(b[0]), b[1:]
	}
	if len(b) < n {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

// putScalar writes the big-endian DER INTEGER v right-aligned into dst.
func putScalar(dst, v []byte) bool {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return false
	}
	clear(dst[:len(dst)-len(v)])
	copy(dst[len(dst)-len(v):], v)
	return true
}

// jwtHeader is the part of the JOSE header this package looks at.
type jwtHeader struct {
	Alg  *string         `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// verifyES384 checks the structure, header and signature of a compact JWS
// and returns its decoded payload. keys is called with the header's kid
// ("" when absent) and may return several candidate keys.
func verifyES384(token string, keys func(kid string) ([]*ecdsa.PublicKey, error)) ([]byte, error) {
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: token is %d bytes, limit is %d", ErrTokenMalformed, len(token), MaxTokenBytes)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, fmt.Errorf("%w: want three dot-separated segments", ErrTokenMalformed)
	}
	rawHeader, err := b64.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url: %v", ErrTokenMalformed, err)
	}
	var hdr jwtHeader
	if err := json.Unmarshal(rawHeader, &hdr); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object: %v", ErrTokenMalformed, err)
	}
	switch {
	case hdr.Alg == nil:
		return nil, fmt.Errorf("%w: header has no alg", ErrTokenMalformed)
	case *hdr.Alg != algES384:
		return nil, fmt.Errorf("%w: alg %q is not allowed, want %q", ErrTokenMalformed, clip(*hdr.Alg), algES384)
	case hdr.Crit != nil:
		return nil, fmt.Errorf("%w: crit header parameters are not supported", ErrTokenMalformed)
	}
	if len(s) != b64.EncodedLen(es384SigSize) {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrTokenSignature, b64.DecodedLen(len(s)), es384SigSize)
	}
	var sig [es384SigSize]byte
	if _, err := b64.Decode(sig[:], []byte(s)); err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url: %v", ErrTokenMalformed, err)
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url: %v", ErrTokenMalformed, err)
	}

	candidates, err := keys(hdr.Kid)
	if err != nil {
		return nil, fmt.Errorf("%w: resolve key %q: %w", ErrTokenSignature, clip(hdr.Kid), err)
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%w: no key found for kid %q", ErrTokenSignature, clip(hdr.Kid))
	}
	digest := sha512.Sum384([]byte(token[:len(h)+1+len(p)]))
	r := new(big.Int).SetBytes(sig[:es384KeySize])
	sv := new(big.Int).SetBytes(sig[es384KeySize:])
	for _, pub := range candidates {
		if pub == nil || pub.Curve != elliptic.P384() || pub.X == nil || pub.Y == nil {
			continue
		}
		if ecdsa.Verify(pub, digest[:], r, sv) {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: signature does not match any key for kid %q", ErrTokenSignature, clip(hdr.Kid))
}

// clip shortens untrusted token content quoted in error messages.
func clip(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// claimsError classifies a JSON decoding error of a verified payload.
func claimsError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("%w: payload is not JSON: %v", ErrTokenMalformed, err)
	}
	return fmt.Errorf("%w: %v", ErrTokenClaims, err)
}

// numericDate is a JWT NumericDate: seconds since the epoch, integer or
// fractional.
type numericDate struct{ time.Time }

// maxNumericDate bounds accepted dates (~ year 33658) so that conversions
// cannot overflow.
const maxNumericDate = 1e12

// UnmarshalJSON implements json.Unmarshaler.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	s := string(b)
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		if sec < 0 || sec > maxNumericDate {
			return fmt.Errorf("date %s out of range", s)
		}
		d.Time = time.Unix(sec, 0)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("date %.40q is not a number of seconds in range", s)
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

// MarshalJSON implements json.Marshaler (integer seconds).
func (d numericDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, d.Unix(), 10), nil
}

// checkTimes validates exp (required) and iat (optional) against now.
func checkTimes(exp, iat *numericDate, now time.Time) error {
	if exp == nil {
		return fmt.Errorf("%w: exp is required", ErrTokenClaims)
	}
	if !now.Before(exp.Time) {
		return fmt.Errorf("%w: expired at %s", ErrTokenExpired, exp.UTC().Format(time.RFC3339))
	}
	if iat != nil && iat.After(now.Add(MaxIssuedAtSkew)) {
		return fmt.Errorf("%w: iat %s is in the future", ErrTokenClaims, iat.UTC().Format(time.RFC3339))
	}
	return nil
}
