package accesskey

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRandomStringIsUniform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		alphabet string
	}{
		{"id alphabet (36, needs rejection)", idAlphabet},
		{"secret alphabet (64, exact)", secretAlphabet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 200_000
			s, err := randomString(n, tt.alphabet)
			require.NoError(t, err)
			require.Len(t, s, n)
			counts := map[rune]int{}
			for _, c := range s {
				require.True(t, strings.ContainsRune(tt.alphabet, c), "unexpected %q", c)
				counts[c]++
			}
			require.Len(t, counts, len(tt.alphabet))
			// Chi-squared against the uniform distribution. With 35 or 63
			// degrees of freedom the 99.99th percentile is < 80 and < 120;
			// a modulo bias (256 % 36 = 4) would give ~1000+.
			expected := float64(n) / float64(len(tt.alphabet))
			var chi2 float64
			for _, c := range tt.alphabet {
				d := float64(counts[c]) - expected
				chi2 += d * d / expected
			}
			require.Less(t, chi2, 130.0)
		})
	}
}

func TestNewKeyFormat(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	seen := map[string]bool{}
	for range 100 {
		k, err := newKey("d", now)
		require.NoError(t, err)
		require.Len(t, k.ID, 20)
		require.True(t, strings.HasPrefix(k.ID, "AKIA"))
		require.True(t, validID(k.ID))
		require.Len(t, k.Secret, 40)
		require.Equal(t, time.UTC, k.Created.Location())
		require.True(t, k.Created.Equal(now))
		require.False(t, seen[k.ID])
		seen[k.ID] = true
	}
}
