package auth

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stagecast/stagecast/internal/model/wire"
)

// Participant token limits, from the IVS real-time CreateParticipantToken
// API.
const (
	// MaxParticipantTokenDuration is the longest allowed token lifetime
	// (20,160 minutes).
	MaxParticipantTokenDuration = 14 * 24 * time.Hour
	// DefaultParticipantTokenDuration is the lifetime used when none is
	// given (720 minutes).
	DefaultParticipantTokenDuration = 12 * time.Hour
	// MaxAttributesBytes caps the total size of all attribute keys and
	// values, as computed by AttributesSize.
	MaxAttributesBytes = 1024
	// MaxUserIDLength caps the user_id claim, in characters.
	MaxUserIDLength = 128
)

// participantTokenVersion is the value of the version claim.
const participantTokenVersion = "1.0"

// ParticipantClaims are the claims of a stage participant token.
type ParticipantClaims struct {
	ParticipantID string            // jti
	StageARN      string            // resource
	StageID       string            // topic
	EventsURL     string            // events_url
	WhipURL       string            // whip_url
	UserID        string            // user_id, omitted when empty
	Attributes    map[string]string // attributes, omitted when empty
	Publish       bool              // capabilities.allow_publish
	Subscribe     bool              // capabilities.allow_subscribe
	IssuedAt      time.Time         // iat, whole seconds
	ExpiresAt     time.Time         // exp, whole seconds
}

// AttributesSize returns the total length in bytes of all keys and values of
// attrs, the quantity limited by MaxAttributesBytes.
func AttributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}

// TokenSigner mints participant tokens with one private key. It is
// immutable and safe for concurrent use.
type TokenSigner struct {
	key    *ecdsa.PrivateKey
	header []byte // base64url(JOSE header) + "."
	err    error  // non-nil when key is unusable
}

// NewTokenSigner returns a signer that mints ES384 tokens with key, naming
// kid in the JOSE header (omitted when empty). If key is not an ECDSA P-384
// key, every MintParticipant call returns an error wrapping ErrInvalidKey.
func NewTokenSigner(key *ecdsa.PrivateKey, kid string) *TokenSigner {
	s := &TokenSigner{key: key}
	if key == nil {
		s.err = fmt.Errorf("%w: missing private key", ErrInvalidKey)
	} else {
		s.err = checkP384(&key.PublicKey)
	}
	hdr := `{"alg":"ES384","typ":"JWT"}`
	if kid != "" {
		hdr = string(wire.AppendString([]byte(`{"alg":"ES384","typ":"JWT","kid":`), kid)) + "}"
	}
	s.header = append(b64.AppendEncode(nil, []byte(hdr)), '.')
	return s
}

// MintParticipant returns a signed participant token for c.
//
// A zero IssuedAt means now, and a zero ExpiresAt means IssuedAt plus
// DefaultParticipantTokenDuration; both are truncated to whole seconds in
// the token. ParticipantID and StageARN are required, and the IVS limits
// (lifetime, user id length, attribute size) are enforced; violations wrap
// ErrTokenClaims. The cost is one ECDSA P-384 signature plus a few hundred
// nanoseconds of encoding.
func (s *TokenSigner) MintParticipant(c ParticipantClaims) (string, error) {
	if s == nil {
		return "", fmt.Errorf("mint participant token: %w: nil token signer", ErrInvalidKey)
	}
	if s.err != nil {
		return "", fmt.Errorf("mint participant token: %w", s.err)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(DefaultParticipantTokenDuration)
	}
	if err := validateParticipant(&c); err != nil {
		return "", fmt.Errorf("mint participant token: %w", err)
	}

	// Both buffers live on the stack; only unusually large claims spill
	// to the heap.
	var payloadBuf [1024]byte
	payload := appendParticipantPayload(payloadBuf[:0], &c)
	var inputBuf [1536]byte
	input := append(inputBuf[:0], s.header...)
	input = b64.AppendEncode(input, payload)
	size := len(input) + 1 + b64.EncodedLen(es384SigSize)
	if size > MaxTokenBytes {
		return "", fmt.Errorf("mint participant token: %w: token would be %d bytes, limit is %d",
			ErrTokenClaims, size, MaxTokenBytes)
	}
	var sig [es384SigSize]byte
	if err := signES384(s.key, input, &sig); err != nil {
		return "", fmt.Errorf("mint participant token: %w", err)
	}
	var sigB64 [128]byte // b64.EncodedLen(es384SigSize)
	b64.Encode(sigB64[:], sig[:])

	var out strings.Builder
	out.Grow(size)
	out.Write(input)
	out.WriteByte('.')
	out.Write(sigB64[:])
	return out.String(), nil
}

// validateParticipant enforces required claims and IVS limits.
func validateParticipant(c *ParticipantClaims) error {
	switch {
	case c.ParticipantID == "":
		return fmt.Errorf("%w: participant id (jti) is required", ErrTokenClaims)
	case c.StageARN == "":
		return fmt.Errorf("%w: stage arn (resource) is required", ErrTokenClaims)
	case utf8.RuneCountInString(c.UserID) > MaxUserIDLength:
		return fmt.Errorf("%w: user id exceeds %d characters", ErrTokenClaims, MaxUserIDLength)
	case !c.ExpiresAt.After(c.IssuedAt):
		return fmt.Errorf("%w: expiry must be after issue time", ErrTokenClaims)
	case c.ExpiresAt.Sub(c.IssuedAt) > MaxParticipantTokenDuration:
		return fmt.Errorf("%w: lifetime exceeds %s", ErrTokenClaims, MaxParticipantTokenDuration)
	}
	if n := AttributesSize(c.Attributes); n > MaxAttributesBytes {
		return fmt.Errorf("%w: attributes are %d bytes, limit is %d", ErrTokenClaims, n, MaxAttributesBytes)
	}
	return nil
}

// appendParticipantPayload appends the JSON claims object for c.
func appendParticipantPayload(b []byte, c *ParticipantClaims) []byte {
	b = append(b, `{"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	b = append(b, `,"jti":`...)
	b = wire.AppendString(b, c.ParticipantID)
	b = append(b, `,"resource":`...)
	b = wire.AppendString(b, c.StageARN)
	b = append(b, `,"topic":`...)
	b = wire.AppendString(b, c.StageID)
	b = append(b, `,"events_url":`...)
	b = wire.AppendString(b, c.EventsURL)
	b = append(b, `,"whip_url":`...)
	b = wire.AppendString(b, c.WhipURL)
	if c.UserID != "" {
		b = append(b, `,"user_id":`...)
		b = wire.AppendString(b, c.UserID)
	}
	if len(c.Attributes) > 0 {
		var keyBuf [32]string
		keys := keyBuf[:0]
		for k := range c.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic output, like encoding/json
		b = append(b, `,"attributes":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = wire.AppendString(b, k)
			b = append(b, ':')
			b = wire.AppendString(b, c.Attributes[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"capabilities":{"allow_publish":`...)
	b = strconv.AppendBool(b, c.Publish)
	b = append(b, `,"allow_subscribe":`...)
	b = strconv.AppendBool(b, c.Subscribe)
	b = append(b, `},"version":"`+participantTokenVersion+`"}`...)
	return b
}

// KeyResolver returns the candidate public keys for a token's kid header
// ("" when the token has none). Returning several keys lets a stage accept
// tokens signed by any of its account's imported keys.
type KeyResolver func(kid string) ([]*ecdsa.PublicKey, error)

// participantJSON is the wire form of participant claims for decoding.
type participantJSON struct {
	Exp          *numericDate      `json:"exp"`
	Iat          *numericDate      `json:"iat"`
	Jti          string            `json:"jti"`
	Resource     string            `json:"resource"`
	Topic        string            `json:"topic"`
	EventsURL    string            `json:"events_url"`
	WhipURL      string            `json:"whip_url"`
	UserID       string            `json:"user_id"`
	Attributes   map[string]string `json:"attributes"`
	Capabilities struct {
		AllowPublish   bool `json:"allow_publish"`
		AllowSubscribe bool `json:"allow_subscribe"`
	} `json:"capabilities"`
}

// VerifyParticipant verifies a participant token minted by MintParticipant
// or signed offline by a user (ES384 with an imported public key) and
// returns its claims.
//
// It requires alg ES384 exactly, a signature valid under one of the keys
// returned by resolve for the token's kid, exp after now (no leeway), iat
// (if present) at most MaxIssuedAtSkew after now, non-empty jti and
// resource, and the IVS user id and attribute limits. Errors wrap
// ErrTokenMalformed, ErrTokenSignature, ErrTokenExpired or ErrTokenClaims;
// an error from resolve is wrapped as well, alongside ErrTokenSignature.
func VerifyParticipant(token string, resolve KeyResolver, now time.Time) (ParticipantClaims, error) {
	if resolve == nil {
		return ParticipantClaims{}, fmt.Errorf("%w: no key resolver", ErrTokenSignature)
	}
	payload, err := verifyES384(token, resolve)
	if err != nil {
		return ParticipantClaims{}, err
	}
	var w participantJSON
	if err := json.Unmarshal(payload, &w); err != nil {
		return ParticipantClaims{}, claimsError(err)
	}
	if err := checkTimes(w.Exp, w.Iat, now); err != nil {
		return ParticipantClaims{}, err
	}
	c := ParticipantClaims{
		ParticipantID: w.Jti,
		StageARN:      w.Resource,
		StageID:       w.Topic,
		EventsURL:     w.EventsURL,
		WhipURL:       w.WhipURL,
		UserID:        w.UserID,
		Attributes:    w.Attributes,
		Publish:       w.Capabilities.AllowPublish,
		Subscribe:     w.Capabilities.AllowSubscribe,
		ExpiresAt:     w.Exp.Time,
	}
	if w.Iat != nil {
		c.IssuedAt = w.Iat.Time
	}
	switch {
	case c.ParticipantID == "":
		return ParticipantClaims{}, fmt.Errorf("%w: jti is required", ErrTokenClaims)
	case c.StageARN == "":
		return ParticipantClaims{}, fmt.Errorf("%w: resource is required", ErrTokenClaims)
	case utf8.RuneCountInString(c.UserID) > MaxUserIDLength:
		return ParticipantClaims{}, fmt.Errorf("%w: user_id exceeds %d characters", ErrTokenClaims, MaxUserIDLength)
	}
	if n := AttributesSize(c.Attributes); n > MaxAttributesBytes {
		return ParticipantClaims{}, fmt.Errorf("%w: attributes are %d bytes, limit is %d", ErrTokenClaims, n, MaxAttributesBytes)
	}
	return c, nil
}
