package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const goodAuthorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-west-2/ivs/aws4_request, " +
	"SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, " +
	"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

var authorizationCases = []struct {
	name   string
	header string
	ok     bool
}{
	{"sdk header", goodAuthorization, true},
	{"no spaces after commas", strings.ReplaceAll(goodAuthorization, ", ", ","), true},
	{"extra spaces", strings.ReplaceAll(goodAuthorization, ", ", " ,  "), true},
	{"parameters in another order", "AWS4-HMAC-SHA256 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7, SignedHeaders=host, Credential=A/20240501/r/ivs/aws4_request", true},
	{"empty", "", false},
	{"algorithm only", "AWS4-HMAC-SHA256", false},
	{"bad algorithm", strings.Replace(goodAuthorization, "SHA256", "SHA512", 1), false},
	{"sigv4a", strings.Replace(goodAuthorization, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), false},
	{"missing signature", goodAuthorization[:strings.Index(goodAuthorization, ", Signature")], false},
	{"missing credential", goodAuthorization[:len("AWS4-HMAC-SHA256 ")] + goodAuthorization[strings.Index(goodAuthorization, "SignedHeaders"):], false},
	{"duplicate signature", goodAuthorization + ", Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", false},
	{"unknown parameter", goodAuthorization + ", Foo=bar", false},
	{"trailing comma", goodAuthorization + ",", false},
	{"parameter without value", strings.Replace(goodAuthorization, "Signature=", "Signature", 1), false},
	{"upper-case hex", strings.Replace(goodAuthorization, "5d672d", "5D672D", 1), false},
	{"non-hex", strings.Replace(goodAuthorization, "5d672d", "5x672d", 1), false},
	{"short signature", goodAuthorization[:len(goodAuthorization)-1], false},
	{"four part credential", strings.Replace(goodAuthorization, "/ivs/aws4_request", "/aws4_request", 1), false},
	{"six part credential", strings.Replace(goodAuthorization, "/ivs/", "/ivs/x/", 1), false},
	{"bad terminator", strings.Replace(goodAuthorization, "aws4_request", "aws5_request", 1), false},
	{"bad date", strings.Replace(goodAuthorization, "20240501", "2024051", 1), false},
	{"bad region", strings.Replace(goodAuthorization, "us-west-2", "US_WEST", 1), false},
	{"empty access key", strings.Replace(goodAuthorization, "AKIDEXAMPLE", "", 1), false},
	{"empty service", strings.Replace(goodAuthorization, "/ivs/", "//", 1), false},
	{"upper-case signed header", strings.Replace(goodAuthorization, "content-type", "Content-Type", 1), false},
	{"empty signed header", strings.Replace(goodAuthorization, ";host;", ";;host;", 1), false},
	{"unsorted signed headers", strings.Replace(goodAuthorization, "content-length;content-type", "content-type;content-length", 1), false},
	{"duplicate signed header", strings.Replace(goodAuthorization, ";host;", ";host;host;", 1), false},
	{"host not signed", strings.Replace(goodAuthorization, ";host;", ";", 1), false},
	{"too long", goodAuthorization + strings.Repeat(" ", maxAuthorizationBytes), false},
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	for _, tt := range authorizationCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := parseAuthorization(tt.header)
			if !tt.ok {
				require.NotNil(t, err)
				require.Equal(t, CodeIncompleteSignature, err.Code)
				require.Equal(t, http.StatusBadRequest, err.Status)
				return
			}
			require.Nil(t, err)
			require.NotEmpty(t, a.accessKeyID)
			require.Equal(t, "ivs", a.service)
			require.Equal(t, "20240501", a.date)
			require.Equal(t, a.date+"/"+a.region+"/ivs/aws4_request", a.scope)
		})
	}
	a, err := parseAuthorization(goodAuthorization)
	require.Nil(t, err)
	require.Equal(t, authorization{
		accessKeyID:   "AKIDEXAMPLE",
		scope:         "20240501/us-west-2/ivs/aws4_request",
		date:          "20240501",
		region:        "us-west-2",
		service:       "ivs",
		signedHeaders: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date",
		signature: [32]byte{0x5d, 0x67, 0x2d, 0x79, 0xc1, 0x5b, 0x13, 0x16, 0x2d, 0x92, 0x79, 0xb0, 0x85, 0x5c, 0xfb, 0xa6,
			0x78, 0x9a, 0x8e, 0xdb, 0x4c, 0x82, 0xc4, 0x00, 0xe0, 0x6b, 0x59, 0x24, 0xa6, 0xf2, 0xb5, 0xd7},
	}, a)
}

func FuzzParseAuthorization(f *testing.F) {
	for _, tt := range authorizationCases {
		f.Add(tt.header)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if err.Code != CodeIncompleteSignature || err.Status != http.StatusBadRequest || err.Message == "" {
				t.Fatalf("unexpected error shape %+v", err)
			}
			return
		}
		// Accepted headers are internally consistent.
		if a.accessKeyID == "" || a.service == "" || len(a.date) != 8 || !validRegion(a.region) {
			t.Fatalf("accepted incomplete credential %+v", a)
		}
		if a.scope != a.date+"/"+a.region+"/"+a.service+"/"+scopeTerminator {
			t.Fatalf("scope %q inconsistent with parts", a.scope)
		}
		if validateSignedHeaders(a.signedHeaders) != nil {
			t.Fatalf("accepted invalid SignedHeaders %q", a.signedHeaders)
		}
	})
}

func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range []string{"", "a=b", "tagKeys=a&tagKeys=b%20c", "a+b=c+d", "x=%2f&x=-", "a=%zz", "a;b", "&&=&a", "%7E=%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, ok := appendCanonicalQuery(nil, raw)
		if !ok {
			return
		}
		// The canonical form is a fixed point.
		again, ok := appendCanonicalQuery(nil, string(out))
		if !ok || string(again) != string(out) {
			t.Fatalf("canonical query of %q is %q, not a fixed point (%q, %v)", raw, out, again, ok)
		}
	})
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"", "", true},
		{"tagKeys=b%20c&tagKeys=a", "tagKeys=a&tagKeys=b%20c", true},
		{"tagKeys=b+c", "tagKeys=b%20c", true},
		{"b=1&a=2&a=1", "a=1&a=2&b=1", true},
		// Sorted after encoding: "a%2Fb" < "a-b" although '/' > '-'.
		{"k=a-b&k=a/b", "k=a%2Fb&k=a-b", true},
		{"k=%7e&k=%41%2f", "k=A%2F&k=~", true},
		{"k", "k=", true},
		{"=v", "=v", true},
		{"&&a=1&", "a=1", true},
		{"k=caf%C3%A9", "k=caf%C3%A9", true},
		{"k=%zz", "", false},
		{"a=1;b=2", "", false},
		{strings.Repeat("a=1&", maxQueryParams+1), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, ok := appendCanonicalQuery(nil, tt.raw)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, tt.want, string(got))
			}
		})
	}
}

func TestCanonicalHeaderValue(t *testing.T) {
	t.Parallel()
	// Reference: aws-sdk-go-v2 strings.TrimSpace(StripExcessSpaces(v)).
	tests := map[string]string{
		"":                 "",
		"a":                "a",
		"  a  ":            "a",
		"a   b    c":       "a b c",
		"\t a  b \t":       "a b",
		"a\t\tb":           "a\t\tb",
		"attempt=1; max=3": "attempt=1; max=3",
	}
	for in, want := range tests {
		require.Equal(t, want, string(appendHeaderValue(nil, in)), "value %q", in)
	}
}

func TestHMACMatchesCryptoHMAC(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var key [32]byte
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		msg := make([]byte, rng.IntN(400))
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		buf := append(make([]byte, hmacBlock), msg...)
		got := hmacSHA256Prefixed(&key, buf)
		m := hmac.New(sha256.New, key[:])
		m.Write(msg)
		require.Equal(t, m.Sum(nil), got[:])
	}
}

func TestDeriveKeyKnownAnswer(t *testing.T) {
	t.Parallel()
	// From the AWS SigV4 documentation example (IAM, us-east-1, 20150830).
	k := deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")
	require.Equal(t, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", string(appendHex(nil, k[:])))
}

func TestKeyCacheBounded(t *testing.T) {
	t.Parallel()
	var c keyCache
	for i := range maxCachedKeys + 50 {
		c.put("AKID", "secret", "20240501", "r"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26), [32]byte{byte(i)})
	}
	require.LessOrEqual(t, len(c.m), maxCachedKeys)
	c.put("AKID", "s1", "20240501", "us-west-2", [32]byte{1})
	k, ok := c.get("AKID", "s1", "20240501", "us-west-2")
	require.True(t, ok)
	require.Equal(t, [32]byte{1}, k)
	_, ok = c.get("AKID", "s2", "20240501", "us-west-2")
	require.False(t, ok, "entry derived from another secret must miss")
}
