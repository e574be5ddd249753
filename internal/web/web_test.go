package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/web"
)

func playbackURL(id string) string {
	return "http://media.test/api/video/v1/us-east-1.123456789012.channel." + id + ".m3u8"
}

func newServer(t *testing.T, opts web.Options) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	// The media listener's other routes live on the same mux.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/whip", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	web.Mount(mux, opts)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestPagesAreHTMLAndNotCached(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.Options{PlaybackURL: playbackURL})
	tests := map[string]struct {
		path string
		want []string
	}{
		"index":            {"/", []string{`href="/stage"`, `href="/playback"`}},
		"stage app":        {"/stage", []string{`id="token"`, `id="join"`, `Join Stage`, `Leave Stage`, `src="/static/stage-app.js"`}},
		"player":           {"/playback", []string{`id="video"`, `id="levels"`, `id="metadata"`, `src="/static/vendor/hls-` + web.HLSVersion + `.min.js"`, `content=""`}},
		"player a channel": {"/playback/abcDEF123456", []string{`content="` + playbackURL("abcDEF123456") + `"`, `<title>Stagecast playback: abcDEF123456</title>`}},
		"player ?channel=": {"/playback?channel=xyz", []string{`content="` + playbackURL("xyz") + `"`}},
		"private channel":  {"/playback/xyz?token=a.b%2Bc", []string{`content="` + playbackURL("xyz") + `?token=a.b%2Bc"`}},
		"broadcast":        {"/broadcast", []string{`id="start"`, `src="/static/broadcast-app.js"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv.URL+tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
			require.True(t, strings.HasPrefix(body, "<!doctype html>"), "page starts with its doctype, got %.40q", body)
			for _, w := range tc.want {
				require.Contains(t, body, w)
			}
		})
	}
}

func TestPlaybackChannelIsEscapedAndValidated(t *testing.T) {
	t.Parallel()
	hostile := func(id string) string { return `http://x/"><script>alert(1)</script>?a=1&b=` + id }
	srv := newServer(t, web.Options{PlaybackURL: hostile})
	resp, body := get(t, srv.URL+"/playback/abc", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "<script>alert(1)")
	require.Contains(t, body, `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;?a=1&amp;b=abc`)

	for _, path := range []string{"/playback/" + strings.Repeat("a", 65), "/playback/a.b", "/playback?channel=%3Cx%3E"} {
		resp, _ := get(t, srv.URL+path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}

	noChannels := newServer(t, web.Options{})
	resp, _ = get(t, noChannels.URL+"/playback/abc", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "without PlaybackURL a channel cannot be named")
	resp, _ = get(t, noChannels.URL+"/playback", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestStaticAssetsServeEmbeddedBytes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.Options{})
	tests := map[string]struct {
		file, ctype, cache string
	}{
		"js module":      {"stagecast-stage.js", "text/javascript; charset=utf-8", "public, max-age=300"},
		"stage app":      {"stage-app.js", "text/javascript; charset=utf-8", "public, max-age=300"},
		"player app":     {"playback-app.js", "text/javascript; charset=utf-8", "public, max-age=300"},
		"style":          {"style.css", "text/css; charset=utf-8", "public, max-age=300"},
		"hls.js":         {"vendor/hls-" + web.HLSVersion + ".min.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		"hls.js licence": {"vendor/hls.js-LICENSE.txt", "text/plain; charset=utf-8", "public, max-age=31536000, immutable"},
		"broadcast app":  {"broadcast-app.js", "text/javascript; charset=utf-8", "public, max-age=300"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join("static", tc.file))
			require.NoError(t, err)
			resp, body := get(t, srv.URL+"/static/"+tc.file, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
			require.Equal(t, tc.cache, resp.Header.Get("Cache-Control"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
			require.Regexp(t, `^"[A-Za-z0-9_-]{16}"$`, resp.Header.Get("ETag"))
			require.Equal(t, string(want), body)
		})
	}
}

func TestStaticRevalidationAnswers304(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.Options{})
	url := srv.URL + "/static/stagecast-stage.js"
	resp, _ := get(t, url, nil)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp, body := get(t, url, map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)

	resp, body = get(t, url, map[string]string{"If-None-Match": `"stale"`})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, body)

	other, _ := get(t, srv.URL+"/static/style.css", nil)
	require.NotEqual(t, etag, other.Header.Get("ETag"), "each file has its own ETag")
}

func TestUnknownPathsAndMethods(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.Options{PlaybackURL: playbackURL})
	for _, path := range []string{"/static/missing.js", "/static/pages/stage.html", "/static/", "/static/vendor/", "/nope"} {
		resp, _ := get(t, srv.URL+path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	resp, err := http.Post(srv.URL+"/stage", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	req, err := http.NewRequest(http.MethodHead, srv.URL+"/static/stagecast-stage.js", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEqual(t, "0", resp.Header.Get("Content-Length"))

	// The neighbours on the mux keep their routes.
	resp, body := get(t, srv.URL+"/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ok", body)
}

// Every asset a page or a script references must be served: a typo would
// otherwise only show in a browser.
func TestEveryReferencedAssetIsServed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, web.Options{PlaybackURL: playbackURL})
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	imports := regexp.MustCompile(`(?m)^import .* from "\./([^"]+)";$`)
	seen := map[string]bool{}
	var check func(path string)
	check = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		resp, body := get(t, srv.URL+path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		for _, m := range refs.FindAllStringSubmatch(body, -1) {
			check(m[1])
		}
		if strings.HasSuffix(path, ".js") && !strings.Contains(path, "/vendor/") {
			for _, m := range imports.FindAllStringSubmatch(body, -1) {
				check("/static/" + m[1])
			}
		}
	}
	for _, page := range []string{"/", "/stage", "/playback", "/playback/abc", "/broadcast"} {
		check(page)
	}
	for _, want := range []string{"/static/stagecast-stage.js", "/static/stage-app.js", "/static/playback-app.js", "/static/style.css", "/static/vendor/hls-" + web.HLSVersion + ".min.js"} {
		require.True(t, seen[want], "%s is referenced from a page", want)
	}
}

func TestHandlerServesTheSameRoutes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(web.Handler(web.Options{}))
	t.Cleanup(srv.Close)
	resp, body := get(t, srv.URL+"/stage", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Join Stage")
	resp, _ = get(t, srv.URL+"/healthz", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
