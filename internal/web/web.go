package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// HLSVersion is the version of the vendored hls.js, served as
// /static/vendor/hls-<HLSVersion>.min.js.
const HLSVersion = "1.7.4"

// Cache-Control values: pages are revalidated on every load so a new binary
// shows at once; assets are revalidated after a few minutes (their ETag
// makes that a 304); vendored files carry their version in the name and
// never change.
const (
	cachePage      = "no-cache"
	cacheAsset     = "public, max-age=300"
	cacheImmutable = "public, max-age=31536000, immutable"
)

// maxChannelIDLength caps the channel id accepted in /playback/<id>; IVS
// channel ids are 12 characters, resource ids at most 64.
const maxChannelIDLength = 64

//go:embed static
var staticFS embed.FS

// Options configures the pages.
type Options struct {
	// PlaybackURL returns a channel's playback URL, used by
	// /playback/<channelId> and /playback?channel=<channelId>. Nil turns
	// those forms off (they answer 404); /playback?url=... always works.
	PlaybackURL func(channelID string) string
}

// asset is one embedded file, ready to serve.
type asset struct {
	name  string
	data  []byte
	etag  string
	ctype string
	cache string
}

// site holds the parsed pages and assets; it is immutable once built.
type site struct {
	opts     Options
	assets   map[string]*asset // by path under /static/
	pages    *template.Template
	channels *regexp.Regexp
}

// Mount registers the pages and assets on mux:
//
//	GET /                         index: links to the pages
//	GET /stage                    the stage app
//	GET /playback                 the player (?url= or ?channel=)
//	GET /playback/{channelId}     the player for one channel
//	GET /broadcast                publish-only page (camera and microphone over WHIP)
//	GET /static/{path...}         assets, among them /static/stagecast-stage.js
//
// Like ServeMux.HandleFunc it panics if mux already has one of these
// patterns; it also panics if the embedded files are broken, which the
// package tests rule out.
func Mount(mux *http.ServeMux, opts Options) {
	s := newSite(opts)
	mux.HandleFunc("GET /{$}", s.page("index.html"))
	mux.HandleFunc("GET /stage", s.page("stage.html"))
	mux.HandleFunc("GET /broadcast", s.page("broadcast.html"))
	mux.HandleFunc("GET /playback", s.playback)
	mux.HandleFunc("GET /playback/{channel}", s.playback)
	mux.HandleFunc("GET /static/{path...}", s.static)
}

// Handler returns a handler serving only the routes Mount registers.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	Mount(mux, opts)
	return mux
}

func newSite(opts Options) *site {
	s := &site{
		opts:     opts,
		assets:   map[string]*asset{},
		channels: regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err))
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		a := &asset{
			name:  p,
			data:  data,
			etag:  `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			ctype: contentType(p),
			cache: cacheAsset,
		}
		if strings.HasPrefix(p, "vendor/") {
			a.cache = cacheImmutable
		}
		s.assets[p] = a
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err))
	}
	s.pages = template.Must(template.New("pages").ParseFS(staticFS, "static/pages/*.html"))
	return s
}

// contentType maps the extensions the embedded files use; browsers refuse
// ES modules served with anything but a JavaScript type.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case "", ".txt", ".md":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// pageData is what the page templates see.
type pageData struct {
	HLSVersion  string
	ChannelID   string
	PlaybackURL string
}

// page serves one HTML page rendered from its template.
func (s *site) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, name, pageData{HLSVersion: HLSVersion})
	}
}

func (s *site) render(w http.ResponseWriter, r *http.Request, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cachePage)
	h.Set("X-Content-Type-Options", "nosniff")
	// Tokens can appear in a page's query string; never leak them.
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(buf.Bytes()))
}

// playback serves the player, filling in the playback URL when a channel is
// named in the path or in ?channel= (with ?token= appended for private
// channels).
func (s *site) playback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("channel")
	if id == "" {
		id = r.URL.Query().Get("channel")
	}
	data := pageData{HLSVersion: HLSVersion}
	if id != "" {
		if s.opts.PlaybackURL == nil || len(id) > maxChannelIDLength || !s.channels.MatchString(id) {
			http.NotFound(w, r)
			return
		}
		data.ChannelID = id
		data.PlaybackURL = s.opts.PlaybackURL(id)
		// A private channel's playback token rides along (?token=).
		if tok := r.URL.Query().Get("token"); tok != "" {
			data.PlaybackURL += "?token=" + url.QueryEscape(tok)
		}
	}
	s.render(w, r, "playback.html", data)
}

// static serves an embedded asset with its ETag and cache policy. The page
// templates are not assets.
func (s *site) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.PathValue("path")]
	if !ok || strings.HasPrefix(a.name, "pages/") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// Other origins may embed the module and the player.
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
}
