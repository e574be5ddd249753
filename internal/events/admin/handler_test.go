package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagecast/stagecast/internal/events"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

// newServer serves the handler over a real bus; requests carrying
// "Authorization: ok" pass the test authenticator.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "admin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bus, err := events.New(context.Background(), events.Options{Store: st, ConfigRules: []events.Rule{{
		Name: "from-config", Enabled: true, EventPattern: json.RawMessage(`{"source":["aws.ivs"]}`),
		Targets: []events.Target{{Type: events.TargetWebhook, Webhook: &events.WebhookTarget{URL: "http://127.0.0.1:1/x", Secret: "cfg-secret"}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(r *http.Request) ([]byte, error) {
		switch r.Header.Get("Authorization") {
		case "ok":
		case "malformed":
			return nil, &AuthError{Status: http.StatusBadRequest, Message: "Authorization header requires 'Credential' parameter."}
		default:
			return nil, errors.New("The request signature we calculated does not match")
		}
		return io.ReadAll(r.Body)
	}
	srv := httptest.NewServer(Handler(bus, auth, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const rule = `{"name":"hook","enabled":true,"event_pattern":{"source":["aws.ivs"]},
		"targets":[{"type":"webhook","webhook":{"url":"http://127.0.0.1:1/y","secret":"api-secret","timeout":"5s"}}]}`
	for _, tc := range []struct {
		name, method, path, body string
		auth                     string
		status                   int
		contains                 string
	}{
		{"unsigned", "GET", "/_stagecast/rules", "", "", 403, "signature"},
		{"malformed", "GET", "/_stagecast/rules", "", "malformed", 400, "Credential"},
		{"list config rule redacted", "GET", "/_stagecast/rules", "", "ok", 200, `"secret":"[REDACTED]"`},
		{"create shows secret once", "POST", "/_stagecast/rules", rule, "ok", 201, `"secret":"api-secret"`},
		{"create duplicate", "POST", "/_stagecast/rules", rule, "ok", 409, "already exists"},
		{"create unknown field", "POST", "/_stagecast/rules", `{"name":"x","bogus":1}`, "ok", 400, `unknown field`},
		{"create invalid pattern", "POST", "/_stagecast/rules", `{"name":"p","enabled":true,"event_pattern":{"a":[{"numeric":["<"]}]},"targets":[]}`, "ok", 400, "a[0].numeric"},
		{"create bad duration", "POST", "/_stagecast/rules", strings.Replace(rule, `"5s"`, `"soon"`, 1), "ok", 400, "rule body"},
		{"too large", "POST", "/_stagecast/rules", `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "ok", 413, "too large"},
		{"get redacted", "GET", "/_stagecast/rules/hook", "", "ok", 200, `"secret":"[REDACTED]"`},
		{"get missing", "GET", "/_stagecast/rules/nope", "", "ok", 404, "rule not found"},
		{"dead letters empty", "GET", "/_stagecast/rules/hook/dead-letters", "", "ok", 200, `"dead_letters":[]`},
		{"dead letters missing rule", "GET", "/_stagecast/rules/nope/dead-letters", "", "ok", 404, "rule not found"},
		{"all dead letters", "GET", "/_stagecast/dead-letters", "", "ok", 200, `"dead_letters":[]`},
		{"delete config rule", "DELETE", "/_stagecast/rules/from-config", "", "ok", 409, "config file"},
		{"delete", "DELETE", "/_stagecast/rules/hook", "", "ok", 204, ""},
		{"delete again", "DELETE", "/_stagecast/rules/hook", "", "ok", 404, "rule not found"},
		{"wrong method", "PUT", "/_stagecast/rules", "", "ok", 405, ""},
	} {
		status, body := call(t, srv, tc.method, tc.path, tc.body, tc.auth)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d containing %q", tc.name, status, body, tc.status, tc.contains)
		}
	}
}
