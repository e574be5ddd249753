package awscmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorded is one request seen by the fake server.
type recorded struct {
	Method, Path, Query string
	Auth                string
	Body                map[string]any
}

// reply is a canned response.
type reply struct {
	status  int
	headers map[string]string
	body    string
}

// fakeServer records requests and answers them with respond (called with
// the 0-based request number), or with "{}".
type fakeServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	respond func(n int, r recorded) reply
}

func newFakeServer(t *testing.T, respond func(n int, r recorded) reply) *fakeServer {
	t.Helper()
	f := &fakeServer{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &rec.Body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	rep := reply{status: http.StatusOK, body: "{}"}
	if f.respond != nil {
		rep = f.respond(n, rec)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "req-1")
	for k, v := range rep.headers {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeServer) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// staticReply answers every request with body.
func staticReply(body string) func(int, recorded) reply {
	return func(int, recorded) reply { return reply{body: body} }
}

// result is the outcome of one Run.
type result struct {
	code           int
	stdout, stderr string
}

// testEnv is the default environment: credentials in the environment, one
// attempt (no retry back-off), and an empty data directory.
func testEnv(t *testing.T, vars map[string]string) Env {
	t.Helper()
	all := map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIDTESTTESTTEST",
		"AWS_SECRET_ACCESS_KEY": "super-secret-key",
		"AWS_MAX_ATTEMPTS":      "1",
	}
	for k, v := range vars {
		if v == "" {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	return Env{
		Getenv:  func(k string) string { return all[k] },
		DataDir: t.TempDir(),
	}
}

func runCmd(t *testing.T, env Env, service string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env.Stdout, env.Stderr = &out, &errb
	code := Run(context.Background(), service, args, env)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// runAt runs a command against endpoint with the default environment.
func runAt(t *testing.T, endpoint, service string, args ...string) result {
	t.Helper()
	return runCmd(t, testEnv(t, nil), service, append(args, "--endpoint-url", endpoint)...)
}

// jsonOf decodes s for comparisons independent of key order.
func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), "json: %s", s)
	return v
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
