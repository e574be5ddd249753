package accesskey

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

const (
	// idPrefix starts every access key id, like AWS long-term keys.
	idPrefix = "AKIA"
	// idRandomLen is the number of random characters after the prefix
	// (AWS ids are 20 characters long).
	idRandomLen = 16
	// idAlphabet: access key ids are upper-case alphanumeric.
	idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

	// secretLen is the length of a secret access key, as in AWS.
	secretLen = 40
	// secretAlphabet is the base64 alphabet AWS secrets are drawn from;
	// 40 characters carry 240 bits of entropy.
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// Key is an API access key. Its Secret is never printed: String, Format and
// LogValue omit it, and it is excluded from JSON.
type Key struct {
	// ID is the access key id, "AKIA" followed by 16 upper-case
	// alphanumeric characters.
	ID string `json:"id"`
	// Secret is the secret access key (40 characters of [A-Za-z0-9+/]).
	Secret string `json:"-"`
	// Created is when the key was created (UTC).
	Created time.Time `json:"created"`
	// Description is free text supplied by the operator.
	Description string `json:"description,omitempty"`
}

// String describes the key without its secret.
func (k Key) String() string {
	return "Key{ID:" + k.ID + " Created:" + k.Created.Format(time.RFC3339) +
		" Description:" + strconv.Quote(k.Description) + " Secret:REDACTED}"
}

// Format makes every fmt verb (including %#v and %+v) use String, so the
// secret cannot leak through formatting.
func (k Key) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, k.String())
}

// LogValue implements slog.LogValuer without the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.ID),
		slog.Time("created", k.Created),
		slog.String("description", k.Description),
	)
}

// newKey generates a key with a fresh id and secret.
func newKey(description string, now time.Time) (Key, error) {
	id, err := randomString(idRandomLen, idAlphabet)
	if err != nil {
		return Key{}, err
	}
	secret, err := randomString(secretLen, secretAlphabet)
	if err != nil {
		return Key{}, err
	}
	return Key{ID: idPrefix + id, Secret: secret, Created: now.UTC(), Description: description}, nil
}

// randomString returns n characters drawn uniformly from alphabet (at most
// 256 characters) using crypto/rand. Bytes at or above the largest multiple
// of len(alphabet) are rejected, so there is no modulo bias.
func randomString(n int, alphabet string) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// validID reports whether id looks like a key id this package creates or
// accepts from the file: 16-128 upper-case alphanumeric characters.
func validID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
