package auth

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Playback token limits, from the IVS private-channel documentation.
const (
	// MaxViewerIDLength caps the aws:viewer-id claim, in characters.
	MaxViewerIDLength = 40
	// MaxRestrictedPlaybackTokenLifetime is how far after the verification
	// time exp may lie when aws:single-use-uuid or aws:viewer-id is set.
	MaxRestrictedPlaybackTokenLifetime = 10 * time.Minute
	// MaxStrictOrigins is the most origins aws:access-control-allow-origin
	// may list when aws:strict-origin-enforcement is true.
	MaxStrictOrigins = 5
)

// PlaybackClaims are the claims of a private-channel playback token.
type PlaybackClaims struct {
	ChannelARN              string    // aws:channel-arn, required
	AllowOrigin             string    // aws:access-control-allow-origin, comma-separated
	StrictOriginEnforcement bool      // aws:strict-origin-enforcement
	SingleUseUUID           string    // aws:single-use-uuid
	ViewerID                string    // aws:viewer-id, at most 40 characters
	ViewerSessionVersion    int64     // aws:viewer-session-version
	IssuedAt                time.Time // iat, optional
	ExpiresAt               time.Time // exp, required
}

// playbackJSON is the wire form of playback claims.
type playbackJSON struct {
	ChannelARN           string       `json:"aws:channel-arn"`
	AllowOrigin          string       `json:"aws:access-control-allow-origin,omitempty"`
	StrictOrigin         bool         `json:"aws:strict-origin-enforcement,omitempty"`
	SingleUseUUID        string       `json:"aws:single-use-uuid,omitempty"`
	ViewerID             string       `json:"aws:viewer-id,omitempty"`
	ViewerSessionVersion int64        `json:"aws:viewer-session-version,omitempty"`
	Iat                  *numericDate `json:"iat,omitempty"`
	Exp                  *numericDate `json:"exp"`
}

// playbackHeader is the JOSE header IVS documents for playback tokens.
const playbackHeader = `{"alg":"ES384","typ":"JWT"}`

// SignPlayback returns a playback token for c signed with key, the way a
// customer's backend would (used by tests and the CLI). ChannelARN and
// ExpiresAt are required; errors wrap ErrTokenClaims or ErrInvalidKey. The
// limits VerifyPlayback enforces are deliberately not checked here, so tests
// can build tokens that a verifier must reject.
func SignPlayback(key *ecdsa.PrivateKey, c PlaybackClaims) (string, error) {
	if key == nil {
		return "", fmt.Errorf("sign playback token: %w: missing private key", ErrInvalidKey)
	}
	if err := checkP384(&key.PublicKey); err != nil {
		return "", fmt.Errorf("sign playback token: %w", err)
	}
	if c.ChannelARN == "" || c.ExpiresAt.IsZero() {
		return "", fmt.Errorf("sign playback token: %w: channel arn and expiry are required", ErrTokenClaims)
	}
	w := playbackJSON{
		ChannelARN:           c.ChannelARN,
		AllowOrigin:          c.AllowOrigin,
		StrictOrigin:         c.StrictOriginEnforcement,
		SingleUseUUID:        c.SingleUseUUID,
		ViewerID:             c.ViewerID,
		ViewerSessionVersion: c.ViewerSessionVersion,
		Exp:                  &numericDate{c.ExpiresAt},
	}
	if !c.IssuedAt.IsZero() {
		w.Iat = &numericDate{c.IssuedAt}
	}
	payload, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("sign playback token: %w", err)
	}
	input := b64.AppendEncode(nil, []byte(playbackHeader))
	input = append(input, '.')
	input = b64.AppendEncode(input, payload)
	var sig [es384SigSize]byte
	if err := signES384(key, input, &sig); err != nil {
		return "", fmt.Errorf("sign playback token: %w", err)
	}
	input = append(input, '.')
	return string(b64.AppendEncode(input, sig[:])), nil
}

// VerifyPlayback verifies a playback token for the channel channelARN and
// returns its claims. The header must say alg ES384; any kid is ignored and
// the signature is tried against every key in keys (the account's playback
// key pairs). exp is required and must be after now; when
// aws:single-use-uuid or aws:viewer-id is present, exp may be at most
// MaxRestrictedPlaybackTokenLifetime after now. Errors wrap
// ErrTokenMalformed, ErrTokenSignature, ErrTokenExpired or ErrTokenClaims.
//
// Origin checks depend on the request and are left to the caller (see
// PlaybackClaims.OriginAllowed); so is single-use and viewer revocation
// bookkeeping.
func VerifyPlayback(token, channelARN string, keys []*ecdsa.PublicKey, now time.Time) (PlaybackClaims, error) {
	payload, err := verifyES384(token, func(string) ([]*ecdsa.PublicKey, error) { return keys, nil })
	if err != nil {
		return PlaybackClaims{}, err
	}
	var w playbackJSON
	if err := json.Unmarshal(payload, &w); err != nil {
		return PlaybackClaims{}, claimsError(err)
	}
	switch {
	case w.ChannelARN == "":
		return PlaybackClaims{}, fmt.Errorf("%w: aws:channel-arn is required", ErrTokenClaims)
	case w.ChannelARN != channelARN:
		return PlaybackClaims{}, fmt.Errorf("%w: wrong channel: token is for %q", ErrTokenClaims, clip(w.ChannelARN))
	}
	if err := checkTimes(w.Exp, w.Iat, now); err != nil {
		return PlaybackClaims{}, err
	}
	switch {
	case utf8.RuneCountInString(w.ViewerID) > MaxViewerIDLength:
		return PlaybackClaims{}, fmt.Errorf("%w: aws:viewer-id exceeds %d characters", ErrTokenClaims, MaxViewerIDLength)
	case w.SingleUseUUID != "" && !isUUID(w.SingleUseUUID):
		return PlaybackClaims{}, fmt.Errorf("%w: aws:single-use-uuid is not a UUID", ErrTokenClaims)
	case (w.SingleUseUUID != "" || w.ViewerID != "") && w.Exp.After(now.Add(MaxRestrictedPlaybackTokenLifetime)):
		return PlaybackClaims{}, fmt.Errorf("%w: exp may be at most %s ahead with aws:single-use-uuid or aws:viewer-id",
			ErrTokenClaims, MaxRestrictedPlaybackTokenLifetime)
	case w.StrictOrigin && countOrigins(w.AllowOrigin) > MaxStrictOrigins:
		return PlaybackClaims{}, fmt.Errorf("%w: at most %d origins with aws:strict-origin-enforcement",
			ErrTokenClaims, MaxStrictOrigins)
	}
	c := PlaybackClaims{
		ChannelARN:              w.ChannelARN,
		AllowOrigin:             w.AllowOrigin,
		StrictOriginEnforcement: w.StrictOrigin,
		SingleUseUUID:           w.SingleUseUUID,
		ViewerID:                w.ViewerID,
		ViewerSessionVersion:    w.ViewerSessionVersion,
		ExpiresAt:               w.Exp.Time,
	}
	if w.Iat != nil {
		c.IssuedAt = w.Iat.Time
	}
	return c, nil
}

// OriginAllowed reports whether a request Origin (e.g. "https://a.example.com")
// is permitted by the aws:access-control-allow-origin claim. An empty claim
// allows every origin. The claim is a comma-separated list whose entries are
// "*" (any origin), an exact origin, or an origin whose host starts with
// "*." (e.g. "https://*.example.com"), which matches any subdomain at any
// depth but not the bare domain. Entries without a scheme match any scheme.
// Comparison is case-insensitive; ports must match exactly.
func (c PlaybackClaims) OriginAllowed(origin string) bool {
	if strings.TrimSpace(c.AllowOrigin) == "" {
		return true
	}
	origin = strings.ToLower(strings.TrimSpace(origin))
	oScheme, oHost, ok := strings.Cut(origin, "://")
	if !ok || oScheme == "" || oHost == "" || strings.ContainsAny(oHost, "/?#@ \\*") {
		oScheme, oHost = "", "" // "null", or malformed: only "*" can match
	}
	for entry := range strings.SplitSeq(c.AllowOrigin, ",") {
		entry = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(entry)), "/")
		if entry == "*" {
			return true
		}
		if oHost == "" || entry == "" {
			continue
		}
		pScheme, pHost, hasScheme := strings.Cut(entry, "://")
		if !hasScheme {
			pScheme, pHost = "", entry
		}
		if pScheme != "" && pScheme != oScheme {
			continue
		}
		if suffix, wild := strings.CutPrefix(pHost, "*."); wild {
			if len(oHost) > len(suffix)+1 && strings.HasSuffix(oHost, "."+suffix) {
				return true
			}
			continue
		}
		if pHost == oHost {
			return true
		}
	}
	return false
}

// countOrigins counts the non-empty entries of a comma-separated list.
func countOrigins(list string) int {
	n := 0
	for entry := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(entry) != "" {
			n++
		}
	}
	return n
}

// isUUID reports whether s has the canonical 8-4-4-4-12 hex UUID form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
