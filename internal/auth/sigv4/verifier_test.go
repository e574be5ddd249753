package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth/sigv4"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-west-2"
	testHost   = "ivs.stagecast.test:8443"
	channelARN = "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCDefgh"
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// staticCreds is a fixed Credentials implementation; safe for concurrent
// reads.
type staticCreds map[string]string

func (c staticCreds) SecretFor(id string) (string, bool) {
	s, ok := c[id]
	return s, ok
}

// mutableCreds allows secret rotation in tests.
type mutableCreds struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *mutableCreds) SecretFor(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	return s, ok
}

func (c *mutableCreds) set(id, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = secret
}

func newTestVerifier(opts sigv4.Options) *sigv4.Verifier {
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	return sigv4.NewVerifier(staticCreds{testAKID: testSecret}, opts)
}

// escapeLabel escapes a URI label like the SDKs do (smithy httpbinding
// EscapePath with encodeSep): every byte outside A-Z a-z 0-9 - _ . ~.
// Note url.PathEscape would leave ':' alone, which is not what the SDKs send.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// signSpec describes a request to sign with the official SDK signer.
type signSpec struct {
	method  string
	target  string // path and query as sent on the wire, e.g. "/tags/arn%3A...?tagKeys=a"
	body    string
	header  http.Header
	akid    string
	secret  string
	token   string
	service string
	region  string
	at      time.Time
	chunked bool   // unknown content length
	payload string // payload hash to sign instead of hex(SHA-256(body))
}

// signed builds a client request the way aws-sdk-go-v2 does and signs it
// with aws/signer/v4.
func signed(t testing.TB, s signSpec) *http.Request {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodPost
	}
	if s.akid == "" {
		s.akid = testAKID
	}
	if s.secret == "" {
		s.secret = testSecret
	}
	if s.service == "" {
		s.service = "ivs"
	}
	if s.region == "" {
		s.region = testRegion
	}
	if s.at.IsZero() {
		s.at = testNow
	}
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	// http.NewRequest parses the URL: the escaped label ends up in RawPath
	// (and the decoded one in Path), exactly like the SDK's httpbinding.
	req, err := http.NewRequestWithContext(context.Background(), s.method, "https://"+testHost+s.target, body)
	require.NoError(t, err)
	if s.chunked {
		req.ContentLength = -1
		req.Body = io.NopCloser(strings.NewReader(s.body))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Amz-Sdk-Invocation-Id", "5f3b1c52-2f7e-4d3b-9d1c-0d8e2c9f1a11")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.6 os/linux lang/go#1.26.8 md/GOOS#linux api/ivs#1.51.1")
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	sum := sha256.Sum256([]byte(s.body))
	payload := hex.EncodeToString(sum[:])
	if s.payload != "" {
		payload = s.payload
		req.Header.Set("X-Amz-Content-Sha256", payload)
	}
	creds := aws.Credentials{AccessKeyID: s.akid, SecretAccessKey: s.secret, SessionToken: s.token}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, s.service, s.region, s.at)
	require.NoError(t, err)
	return req
}

// overWire serializes a client request and parses it back as a server
// would receive it (Host moved to r.Host, URL parsed from the request line).
func overWire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, req.Write(&buf))
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	require.NoError(t, err)
	return sr
}

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	t.Parallel()
	arnPath := "/tags/" + escapeLabel(channelARN)
	tests := []struct {
		name string
		spec signSpec
		opts sigv4.Options
	}{
		{name: "create channel with JSON body", spec: signSpec{target: "/CreateChannel", body: `{"name":"my-channel","latencyMode":"LOW","type":"STANDARD"}`}},
		{name: "tag resource with double-encoded ARN path", spec: signSpec{target: arnPath, body: `{"tags":{"env":"prod"}}`}},
		{name: "untag resource with repeated query keys", spec: signSpec{method: http.MethodDelete, target: arnPath + "?tagKeys=a&tagKeys=b%20c"}},
		{name: "query sorted after encoding", spec: signSpec{method: http.MethodDelete, target: arnPath + "?tagKeys=a%2Fb&tagKeys=a-b&tagKeys=%7E&tagKeys=caf%C3%A9"}},
		{name: "query with plus as space and lower-case escapes", spec: signSpec{method: http.MethodDelete, target: arnPath + "?tagKeys=b+c&tagKeys=x%2fy"}},
		{name: "get with empty body", spec: signSpec{method: http.MethodGet, target: arnPath}},
		{name: "security token is signed", spec: signSpec{target: "/ListStages", body: `{}`, token: "FwoGZXIvYXdzEJr//////////wEaDAz+example+token=="}},
		{name: "repeated header and inner spaces", spec: signSpec{target: "/ListChannels", body: `{}`, header: http.Header{
			"X-Amz-Meta": {"a   b", "  c  "}, "X-Amz-Trailer": {"x\t y"},
		}}},
		{name: "any region by default", spec: signSpec{target: "/ListChannels", body: `{}`, region: "eu-central-1"}},
		{name: "allowed region", spec: signSpec{target: "/ListChannels", body: `{}`, region: "eu-west-1"}, opts: sigv4.Options{Regions: []string{"us-west-2", "eu-west-1"}}},
		{name: "signed 14 minutes ago", spec: signSpec{target: "/ListChannels", body: `{}`, at: testNow.Add(-14 * time.Minute)}},
		{name: "signed 14 minutes in the future", spec: signSpec{target: "/ListChannels", body: `{}`, at: testNow.Add(14 * time.Minute)}},
		{name: "body exactly at the limit", spec: signSpec{target: "/ListChannels", body: `{"x":"0123456789"}`}, opts: sigv4.Options{MaxBodyBytes: 18}},
		{name: "x-amz-content-sha256 with the real hash", spec: signSpec{target: "/ListChannels", body: `{}`, payload: hexSHA256(`{}`)}},
		{name: "chunked body", spec: signSpec{target: "/ListChannels", body: `{"maxResults":5}`, chunked: true}},
	}
	for _, tt := range tests {
		for _, wire := range []bool{false, true} {
			name := tt.name + "/direct"
			if wire {
				name = tt.name + "/over the wire"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				req := signed(t, tt.spec)
				if wire {
					req = overWire(t, req)
				}
				v := newTestVerifier(tt.opts)
				id, err := v.Verify(req)
				require.NoError(t, err)
				wantRegion := tt.spec.region
				if wantRegion == "" {
					wantRegion = testRegion
				}
				require.Equal(t, sigv4.Identity{AccessKeyID: testAKID, Region: wantRegion, Body: id.Body}, id)
				require.Equal(t, tt.spec.body, string(id.Body))
				require.Equal(t, tt.spec.body, string(sigv4.Body(req)))
				again, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				require.Equal(t, tt.spec.body, string(again), "r.Body must be readable again")
				require.Equal(t, tt.spec.body, string(sigv4.Body(req)), "Body survives reading r.Body")

				// The same request verifies again with the cached key.
				req.Body = io.NopCloser(strings.NewReader(tt.spec.body))
				_, err = v.Verify(req)
				require.NoError(t, err)
			})
		}
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	arnPath := "/tags/" + escapeLabel(channelARN)
	base := signSpec{target: arnPath, body: `{"tags":{"env":"prod"}}`}
	with := func(f func(*signSpec)) signSpec {
		s := base
		f(&s)
		return s
	}
	setAuth := func(f func(string) string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
	}
	replaceAuth := func(old, new string) func(*http.Request) {
		return setAuth(func(h string) string { return strings.Replace(h, old, new, 1) })
	}
	tests := []struct {
		name       string
		spec       signSpec
		opts       sigv4.Options
		mutate     func(*http.Request)
		wantCode   string // "" means accepted
		wantStatus int
		wantMsg    string
	}{
		{name: "missing authorization", spec: base, mutate: func(r *http.Request) { r.Header.Del("Authorization") },
			wantCode: sigv4.CodeMissingAuthenticationToken, wantStatus: 403, wantMsg: "Missing Authentication Token"},
		{name: "presigned query", spec: with(func(s *signSpec) { s.target += "?X-Amz-Signature=abc&X-Amz-Credential=x" }),
			mutate:   func(r *http.Request) { r.Header.Del("Authorization") },
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "Presigned"},
		{name: "unknown access key id", spec: with(func(s *signSpec) { s.akid = "AKIAUNKNOWNUNKNOWN00" }),
			wantCode: sigv4.CodeUnrecognizedClient, wantStatus: 403, wantMsg: "The security token included in the request is invalid."},
		{name: "wrong secret", spec: with(func(s *signSpec) { s.secret = "wrong" + testSecret[5:] }),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "does not match"},
		{name: "tampered body", spec: base, mutate: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"tags":{"env":"dev!"}}`))
		}, wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "tampered path", spec: base, mutate: func(r *http.Request) {
			r.URL.RawPath = strings.Replace(r.URL.RawPath, "abcdABCDefgh", "abcdABCDefgX", 1)
			r.URL.Path = strings.Replace(r.URL.Path, "abcdABCDefgh", "abcdABCDefgX", 1)
		}, wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "path sent decoded instead of escaped", spec: base, mutate: func(r *http.Request) { r.URL.RawPath = "" },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "tampered method", spec: base, mutate: func(r *http.Request) { r.Method = http.MethodPut },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "added query parameter", spec: base, mutate: func(r *http.Request) { r.URL.RawQuery = "tagKeys=x" },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "malformed query", spec: with(func(s *signSpec) { s.method = http.MethodDelete; s.body = "" }),
			mutate: func(r *http.Request) { r.URL.RawQuery = "tagKeys=%zz" }, wantCode: sigv4.CodeValidation, wantStatus: 400},
		{name: "semicolon query", spec: with(func(s *signSpec) { s.method = http.MethodDelete; s.body = "" }),
			mutate: func(r *http.Request) { r.URL.RawQuery = "a=1;b=2" }, wantCode: sigv4.CodeValidation, wantStatus: 400},
		{name: "unsigned payload", spec: with(func(s *signSpec) { s.payload = "UNSIGNED-PAYLOAD" }),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "extra unsigned header is ignored", spec: base, mutate: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "changed user agent is ignored (never signed)", spec: base, mutate: func(r *http.Request) { r.Header.Set("User-Agent", "curl") }},
		{name: "changed signed header", spec: base, mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "removed signed header", spec: base, mutate: func(r *http.Request) { r.Header.Del("Amz-Sdk-Request") },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "changed host", spec: base, mutate: func(r *http.Request) { r.Host = "evil.example:8443" },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "changed security token", spec: with(func(s *signSpec) { s.token = "token-a" }),
			mutate:   func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "token-b") },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "signed 16 minutes ago", spec: with(func(s *signSpec) { s.at = testNow.Add(-16 * time.Minute) }),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403,
			wantMsg: "Signature expired: 20240501T114400Z is now earlier than 20240501T114500Z (20240501T120000Z - 15 min.)"},
		{name: "signed 16 minutes in the future", spec: with(func(s *signSpec) { s.at = testNow.Add(16 * time.Minute) }),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403,
			wantMsg: "Signature not yet current: 20240501T121600Z is still later than 20240501T121500Z (20240501T120000Z + 15 min.)"},
		{name: "custom max skew", spec: with(func(s *signSpec) { s.at = testNow.Add(-2 * time.Minute) }), opts: sigv4.Options{MaxSkew: time.Minute},
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "Signature expired"},
		{name: "credential date differs from X-Amz-Date", spec: base, mutate: replaceAuth("/20240501/", "/20240502/"),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "Date in Credential scope does not match"},
		{name: "X-Amz-Date changed", spec: base, mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20240501T120001Z") },
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "does not match"},
		{name: "wrong service in scope", spec: with(func(s *signSpec) { s.service = "ivs-realtime" }),
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "Credential should be scoped to correct service: 'ivs'."},
		{name: "region not allowed", spec: with(func(s *signSpec) { s.region = "us-east-1" }), opts: sigv4.Options{Regions: []string{"us-west-2"}},
			wantCode: sigv4.CodeInvalidSignature, wantStatus: 403, wantMsg: "valid region"},
		{name: "missing X-Amz-Date", spec: base, mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "X-Amz-Date"},
		{name: "malformed X-Amz-Date", spec: base, mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2024-05-01T12:00:00Z") },
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "impossible X-Amz-Date", spec: base, mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20240231T120000Z") },
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "two authorization headers", spec: base, mutate: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) },
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "missing signature", spec: base, mutate: setAuth(func(h string) string { return h[:strings.Index(h, ", Signature=")] }),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "requires 'Signature' parameter"},
		{name: "missing signed headers", spec: base, mutate: setAuth(func(h string) string {
			i, j := strings.Index(h, ", SignedHeaders="), strings.Index(h, ", Signature=")
			return h[:i] + h[j:]
		}), wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "requires 'SignedHeaders' parameter"},
		{name: "bad algorithm", spec: base, mutate: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "Unsupported Authorization Type"},
		{name: "bearer token", spec: base, mutate: setAuth(func(string) string { return "Bearer abc" }),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "non-hex signature", spec: base, mutate: setAuth(func(h string) string { return h[:len(h)-1] + "g" }),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "hexadecimal"},
		{name: "short signature", spec: base, mutate: setAuth(func(h string) string { return h[:len(h)-2] }),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "flipped signature", spec: base, mutate: setAuth(func(h string) string {
			last := h[len(h)-1]
			repl := byte('0')
			if last == '0' {
				repl = '1'
			}
			return h[:len(h)-1] + string(repl)
		}), wantCode: sigv4.CodeInvalidSignature, wantStatus: 403},
		{name: "bad terminator", spec: base, mutate: replaceAuth("/aws4_request", "/aws4_reqest"),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "terminator"},
		{name: "credential without scope", spec: base, mutate: replaceAuth("/20240501/us-west-2/ivs/aws4_request", ""),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "host not signed", spec: base, mutate: replaceAuth(";host;", ";"),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400, wantMsg: "'Host'"},
		{name: "unsorted signed headers", spec: base, mutate: replaceAuth("SignedHeaders=amz-sdk-invocation-id;amz-sdk-request", "SignedHeaders=amz-sdk-request;amz-sdk-invocation-id"),
			wantCode: sigv4.CodeIncompleteSignature, wantStatus: 400},
		{name: "body over the limit", spec: base, opts: sigv4.Options{MaxBodyBytes: 8},
			wantCode: sigv4.CodeValidation, wantStatus: http.StatusRequestEntityTooLarge, wantMsg: "exceeds the maximum size of 8 bytes"},
		{name: "chunked body over the limit", spec: with(func(s *signSpec) { s.chunked = true }), opts: sigv4.Options{MaxBodyBytes: 8},
			wantCode: sigv4.CodeValidation, wantStatus: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		for _, wire := range []bool{false, true} {
			name := tt.name + "/direct"
			if wire {
				name = tt.name + "/over the wire"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				req := signed(t, tt.spec)
				if wire {
					req = overWire(t, req)
				}
				if tt.mutate != nil {
					tt.mutate(req)
				}
				_, err := newTestVerifier(tt.opts).Verify(req)
				if tt.wantCode == "" {
					require.NoError(t, err)
					return
				}
				var se *sigv4.Error
				require.ErrorAs(t, err, &se)
				require.Equal(t, tt.wantCode, se.Code, se.Message)
				require.Equal(t, tt.wantStatus, se.Status)
				require.Contains(t, se.Message, tt.wantMsg)
				require.NotContains(t, err.Error(), testSecret)
				require.False(t, hex64.MatchString(err.Error()), "error must not contain a signature: %v", err)
			})
		}
	}
}

func TestVerifyFollowsSecretRotation(t *testing.T) {
	t.Parallel()
	creds := &mutableCreds{m: map[string]string{testAKID: testSecret}}
	v := sigv4.NewVerifier(creds, sigv4.Options{Now: func() time.Time { return testNow }})
	spec := signSpec{target: "/ListChannels", body: `{}`}
	_, err := v.Verify(signed(t, spec)) // caches the derived key
	require.NoError(t, err)

	const rotated = "rotatedSecretrotatedSecretrotatedSecret1"
	creds.set(testAKID, rotated)
	_, err = v.Verify(signed(t, spec))
	require.Error(t, err, "a cached key derived from the old secret must not be used")

	spec.secret = rotated
	_, err = v.Verify(signed(t, spec))
	require.NoError(t, err)
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(sigv4.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				region := []string{"us-west-2", "eu-west-1", "ap-south-1"}[(i+j)%3]
				body := `{"name":"c` + string(rune('a'+j)) + `"}`
				req := signed(t, signSpec{target: "/CreateChannel", body: body, region: region})
				id, err := v.Verify(req)
				if err != nil {
					t.Errorf("verify: %v", err)
					return
				}
				if id.Region != region || string(id.Body) != body {
					t.Errorf("identity = %+v", id)
				}
			}
		})
	}
	wg.Wait()
}

func TestErrorUnwrap(t *testing.T) {
	t.Parallel()
	req := signed(t, signSpec{target: "/ListChannels", body: `{}`})
	cause := errors.New("connection reset")
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{cause}))
	_, err := newTestVerifier(sigv4.Options{}).Verify(req)
	require.ErrorIs(t, err, cause)
	var se *sigv4.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, sigv4.CodeValidation, se.Code)
	require.Equal(t, http.StatusBadRequest, se.Status)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// resettableBody lets the benchmark reuse one request without allocating a
// new body per iteration.
type resettableBody struct{ bytes.Reader }

func (*resettableBody) Close() error { return nil }

func BenchmarkVerify(b *testing.B) {
	const body = `{"stageArn":"arn:aws:ivs:us-west-2:123456789012:stage/abcdABCDefgh","duration":720,` +
		`"userId":"user-1234","attributes":{"displayName":"Alice"},"capabilities":["PUBLISH","SUBSCRIBE"]}`
	for _, bc := range []struct {
		name   string
		target string
		body   string
		method string
	}{
		{name: "CreateParticipantToken", target: "/CreateParticipantToken", body: body, method: http.MethodPost},
		{name: "UntagResource", target: "/tags/" + escapeLabel(channelARN) + "?tagKeys=a&tagKeys=b", method: http.MethodDelete},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := overWire(b, signed(b, signSpec{method: bc.method, target: bc.target, body: bc.body}))
			v := newTestVerifier(sigv4.Options{})
			rb := &resettableBody{}
			bodyBytes := []byte(bc.body)
			b.ReportAllocs()
			for b.Loop() {
				req.Body = http.NoBody // what net/http gives handlers for empty bodies
				if len(bodyBytes) > 0 {
					rb.Reset(bodyBytes)
					req.Body = rb
				}
				if _, err := v.Verify(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
