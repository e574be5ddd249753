package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
)

// Base62 is the alphabet used for random credential material: digits,
// upper-case and lower-case ASCII letters.
const Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// redacted is what every formatting path of Secret prints.
const redacted = "[REDACTED]"

// Secret is a credential value (stream key, private key PEM, ...) that must
// not end up in logs or error messages. String, GoString, LogValue and every
// fmt verb print "[REDACTED]"; Reveal returns the actual value.
//
// Secret deliberately has no MarshalText or MarshalJSON method: encoders
// such as encoding/json redact it too (MarshalText), so a Secret that ends
// up inside a logged or encoded struct never leaks. Code that writes a
// secret somewhere on purpose calls Reveal and stores the plain string.
type Secret string

// Reveal returns the secret value. Call it only where the value is
// deliberately handed out or stored.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer and always returns "[REDACTED]".
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer and always returns "[REDACTED]".
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer so that slog handlers (text and JSON)
// print "[REDACTED]" instead of the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler (used by encoding/json and
// slog's JSON handler for nested values) and always returns "[REDACTED]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format implements fmt.Formatter. Without it, verbs that fmt does not route
// through String (for example %d or %x on a string kind reported as a bad
// verb) would print the underlying value.
func (s Secret) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, redacted)
}

// EqualSecret reports whether a and b are equal in constant time. Both
// inputs are hashed with SHA-256 first so that the comparison time does not
// depend on, and therefore does not reveal, their lengths either.
func EqualSecret(a, b string) bool {
	da := sha256.Sum256([]byte(a))
	db := sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}

// RandomString returns n characters drawn uniformly from alphabet (treated
// as bytes) using crypto/rand. Rejection sampling avoids modulo bias. It
// returns "" when n <= 0 or when alphabet is empty or longer than 256 bytes.
func RandomString(n int, alphabet string) string {
	size := len(alphabet)
	if n <= 0 || size == 0 || size > 256 {
		return ""
	}
	out := make([]byte, n)
	if size == 1 {
		for i := range out {
			out[i] = alphabet[0]
		}
		return string(out)
	}
	// Smallest all-ones mask covering size-1; each masked byte is accepted
	// with probability size/(mask+1) >= 1/2.
	mask := byte(uint(1)<<bits.Len(uint(size-1)) - 1)
	var stack [128]byte
	buf := stack[:]
	if want := n + n/2 + 16; want < len(buf) {
		buf = buf[:want]
	}
	for i := 0; i < n; {
		_, _ = rand.Read(buf) // never fails; crashes the program instead
		for _, b := range buf {
			b &= mask
			if int(b) >= size {
				continue
			}
			out[i] = alphabet[b]
			if i++; i == n {
				break
			}
		}
	}
	return string(out)
}
