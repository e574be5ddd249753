package origin

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stagecast/stagecast/internal/packager/cmaf"
	"github.com/stagecast/stagecast/internal/segstore"
)

// hlsJS finds a copy of hls.js (the one internal/web vendors).
func hlsJS() string {
	m, _ := filepath.Glob("../web/static/vendor/hls-*.min.js")
	if len(m) > 0 {
		return m[0]
	}
	return ""
}

const playerPage = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.js"></script><script>
window.meta = []; window.fatal = [];
const v = document.getElementById('v');
const h = new Hls({lowLatencyMode: true});
window.hls = h;
h.on(Hls.Events.FRAG_PARSING_METADATA, (e, d) => { for (const s of d.samples) window.meta.push(Array.from(s.data)); });
h.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) window.fatal.push(d.details); });
h.loadSource(location.hash.slice(1));
h.attachMedia(v);
v.play();
</script></body></html>`

// TestHLSJSPlaysLowLatency plays a LOW channel in headless Chromium with
// hls.js in low-latency mode: playback advances without fatal errors and
// metadata inserted mid-stream reaches the player as an ID3 TXXX frame.
// It also logs hls.js's own latency estimate.
func TestHLSJSPlaysLowLatency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		container segstore.Container
	}{{"fmp4", segstore.FMP4}, {"ts", segstore.TS}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			playHLSJS(t, tc.container)
		})
	}
}

func playHLSJS(t *testing.T, container segstore.Container) {
	js := hlsJS()
	chromium, err := exec.LookPath("chromium")
	if js == "" || err != nil {
		t.Skip("needs chromium and hls.js")
	}
	src, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	l := startLive(t, liveOpts{mode: segstore.Low, container: container, speed: 1, routes: func(mux *http.ServeMux) {
		mux.HandleFunc("GET /player.html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(playerPage))
		})
		mux.HandleFunc("GET /hls.js", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/javascript")
			_, _ = w.Write(src)
		})
	}})
	waitFor(t, "first part", 20*time.Second, func() bool { return l.rd.Snapshot().Has(0, 1) })

	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(l.srv.URL+"/player.html#"+l.base+testChan+".m3u8")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	type playerState struct {
		Time    float64  `json:"t"`
		Latency float64  `json:"lat"`
		Fatal   []string `json:"fatal"`
		RawMeta [][]int  `json:"meta"`
	}
	var state playerState
	poll := func() {
		t.Helper()
		var err error
		state, err = chromedp.Run(ctx, chromedp.Evaluate[playerState](`({t: document.getElementById('v').currentTime, lat: window.hls.latency || 0, fatal: window.fatal, meta: window.meta})`))
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		if len(state.Fatal) > 0 {
			t.Fatalf("hls.js fatal errors: %v", state.Fatal)
		}
	}
	waitFor(t, "playback to start", 30*time.Second, func() bool { poll(); return state.Time > 0.3 })
	const payload = `{"poll":"which codec?"}`
	if err := l.seg.InsertMetadata(payload); err != nil {
		t.Fatal(err)
	}
	started := state.Time
	waitFor(t, "the metadata cue", 20*time.Second, func() bool { poll(); return len(state.RawMeta) > 0 })
	tag := make([]byte, len(state.RawMeta[0]))
	for i, v := range state.RawMeta[0] {
		tag[i] = byte(v)
	}
	if got, err := cmaf.ParseID3TXXX(tag); err != nil || got != payload {
		t.Errorf("hls.js metadata = %q, %v; want %q", got, err, payload)
	}
	waitFor(t, "playback to advance", 20*time.Second, func() bool { poll(); return state.Time > started+1.5 })
	t.Logf("hls.js: currentTime %.2fs, latency estimate %.2fs", state.Time, state.Latency)
}
