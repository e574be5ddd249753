package model

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// ARN is an Amazon Resource Name in the "ivs" namespace:
// arn:aws:ivs:<region>:<account>:<type>/<id>.
type ARN string

// ParseARN splits an IVS ARN into its parts.
func ParseARN(s string) (region, account, typ, id string, err error) {
	rest, ok := strings.CutPrefix(s, "arn:aws:ivs:")
	if !ok {
		return "", "", "", "", fmt.Errorf("arn %q: not an ivs arn", s)
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 {
		return "", "", "", "", fmt.Errorf("arn %q: malformed", s)
	}
	typ, id, ok = strings.Cut(parts[2], "/")
	if !ok || typ == "" || id == "" {
		return "", "", "", "", fmt.Errorf("arn %q: no resource type/id", s)
	}
	return parts[0], parts[1], typ, id, nil
}

// ResourceType returns the type segment of an ARN ("channel", "stage"...),
// or "" when s is not an IVS ARN.
func ResourceType(s string) string {
	_, _, t, _, err := ParseARN(s)
	if err != nil {
		return ""
	}
	return t
}

// ResourceID returns the id segment of an ARN, or "".
func ResourceID(s string) string {
	_, _, _, id, err := ParseARN(s)
	if err != nil {
		return ""
	}
	return id
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomID returns n characters of base62 from crypto/rand (no modulo bias).
func RandomID(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("model: crypto/rand failed: " + err.Error()) // crypto/rand never fails on Linux
		}
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: keep the distribution uniform
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// NewResourceID returns a 12-character resource id, as IVS uses for
// channels, stages, keys, configurations and compositions.
func NewResourceID() string { return RandomID(12) }

// NewStreamID returns a low-latency stream id: "st-" + 23 characters.
func NewStreamID() string { return "st-" + RandomID(23) }

// NewStageSessionID returns a stage session id: "st-" + 13 characters.
func NewStageSessionID() string { return "st-" + RandomID(13) }
