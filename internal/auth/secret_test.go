package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stagecast/stagecast/internal/auth"
)

func TestSecretRedaction(t *testing.T) {
	t.Parallel()
	const value = "sk_us-west-2_topsecretvalue"
	s := auth.Secret(value)
	wrapper := struct {
		Name string
		Key  auth.Secret
	}{"chan", s}

	cases := map[string]string{
		"String":   s.String(),
		"GoString": s.GoString(),
		"%v":       fmt.Sprintf("%v", s),
		"%s":       fmt.Sprintf("%s", s),
		"%#v":      fmt.Sprintf("%#v", s),
		"%q":       fmt.Sprintf("%q", s),
		"%x":       fmt.Sprintf("%x", s),
		"%d":       fmt.Sprintf("%d", s),
		"%+v":      fmt.Sprintf("%+v", wrapper),
		"%#v-wrap": fmt.Sprintf("%#v", wrapper),
		"error":    fmt.Errorf("bad key %v", s).Error(),
		"LogValue": s.LogValue().String(),
	}
	for name, got := range cases {
		if strings.Contains(got, value) || !strings.Contains(got, "[REDACTED]") {
			t.Errorf("%s: got %q, want it redacted", name, got)
		}
	}
	for _, exact := range []string{"String", "GoString", "%v", "%s", "%#v", "LogValue"} {
		if cases[exact] != "[REDACTED]" {
			t.Errorf("%s = %q, want [REDACTED]", exact, cases[exact])
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal = %q, want %q", s.Reveal(), value)
	}
}

func TestSecretSlog(t *testing.T) {
	t.Parallel()
	const value = "rt_123456789012_us-west-2_abc_verysecret"
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(mk(&buf))
			log.Info("created", "key", auth.Secret(value), slog.Any("any", auth.Secret(value)),
				slog.Group("g", "nested", auth.Secret(value)))
			out := buf.String()
			if strings.Contains(out, value) {
				t.Fatalf("log output leaks secret: %s", out)
			}
			if strings.Count(out, "[REDACTED]") != 3 {
				t.Fatalf("want 3 redactions in %s", out)
			}
		})
	}
}

func TestEqualSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := auth.EqualSecret(tt.a, tt.b); got != tt.want {
			t.Errorf("EqualSecret(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRandomString(t *testing.T) {
	t.Parallel()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name     string
		n        int
		alphabet string
		wantLen  int
	}{
		{"base62", 42, auth.Base62, 42},
		{"long", 1000, auth.Base62, 1000},
		{"binary", 64, "01", 64},
		{"single", 5, "x", 5},
		{"full byte range", 300, string(all), 300},
		{"zero", 0, auth.Base62, 0},
		{"negative", -3, auth.Base62, 0},
		{"empty alphabet", 10, "", 0},
		{"alphabet too large", 10, string(all) + "x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := auth.RandomString(tt.n, tt.alphabet)
			if len(got) != tt.wantLen {
				t.Fatalf("len = %d, want %d", len(got), tt.wantLen)
			}
			for i := 0; i < len(got); i++ {
				if strings.IndexByte(tt.alphabet, got[i]) < 0 {
					t.Fatalf("byte %q not in alphabet", got[i])
				}
			}
		})
	}
}

func TestRandomStringCoversAlphabet(t *testing.T) {
	t.Parallel()
	// 62*200 draws: every symbol must show up, and none absurdly often
	// (a modulo-biased or broken sampler would skew counts badly).
	counts := map[rune]int{}
	for _, r := range auth.RandomString(62*200, auth.Base62) {
		counts[r]++
	}
	if len(counts) != 62 {
		t.Fatalf("saw %d distinct symbols, want 62", len(counts))
	}
	for r, n := range counts {
		if n < 100 || n > 320 {
			t.Errorf("symbol %q drawn %d times, expected about 200", r, n)
		}
	}
}

func TestSecretRedactedInJSON(t *testing.T) {
	t.Parallel()
	const value = "sk_us-east-1_topsecretvalue"
	b, err := json.Marshal(struct{ Key auth.Secret }{auth.Secret(value)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), value) || !strings.Contains(string(b), "[REDACTED]") {
		t.Fatalf("json output leaks or lacks redaction: %s", b)
	}
}
