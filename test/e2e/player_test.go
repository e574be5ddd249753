package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/web"
)

const ffmpegPath = "/usr/bin/ffmpeg"

// liveHLS runs ffmpeg writing a live two-rendition HLS stream (360p and
// 180p, one-second segments, program date-time) into a temp dir served
// with CORS; it returns the multivariant playlist URL. ffmpeg stops when
// the test ends.
func liveHLS(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(ffmpegPath); err != nil {
		t.Skipf("needs %s: %v", ffmpegPath, err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, ffmpegPath, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-filter_complex", "[0:v]split=2[hi][lo0];[lo0]scale=320:180[lo]",
		"-map", "[hi]", "-map", "[lo]", "-map", "1:a", "-map", "1:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-b:v:0", "800k", "-b:v:1", "250k", "-c:a", "aac", "-b:a", "64k",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "6",
		"-hls_flags", "delete_segments+program_date_time+independent_segments",
		"-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
		filepath.Join(dir, "stream_%v.m3u8"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cmd.Wait() })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("ffmpeg: %s", stderr.String())
		}
	})
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	require.Eventually(t, func() bool {
		_, err1 := os.Stat(filepath.Join(dir, "master.m3u8"))
		_, err2 := os.Stat(filepath.Join(dir, "stream_1.m3u8"))
		return err1 == nil && err2 == nil
	}, 20*time.Second, 100*time.Millisecond, "ffmpeg writes the playlists")
	return srv.URL + "/master.m3u8"
}

// playerStats is window.stagecastPlayer.stats().
type playerStats struct {
	Latency    *float64 `json:"latency"`
	PDTLatency *float64 `json:"pdtLatency"`
	Level      int      `json:"level"`
	Rendition  string   `json:"rendition"`
	Playing    bool     `json:"playing"`
}

// The player plays a live HLS stream given as ?url=, shows its latency
// (hls.js's and by program date-time) and renditions, and switches
// rendition from the picker.
func TestPlayerPlaysLiveHLS(t *testing.T) {
	b := newBrowser(t)
	s := testutil.Start(t, "")
	src := liveHLS(t)
	tb := b.tab(t, "player", true)
	tb.run(t, 20*time.Second, chromedp.Navigate(s.MediaEndpoint()+"/playback?url="+url.QueryEscape(src)), chromedp.WaitVisible(chromedp.CSS("#video")))

	poll[bool](t, tb, 30*time.Second, "playback", `(() => {
		const v = window.stagecastPlayer.video;
		return v.videoWidth > 0 && v.currentTime > 1 && !v.paused;
	})()`)
	levels := eval[[]string](t, tb, `[...document.getElementById("levels").options].map(o => o.textContent)`)
	require.Len(t, levels, 3, "Auto and the two renditions: %v", levels)
	require.Equal(t, "Auto", levels[0])
	require.True(t, strings.HasPrefix(levels[1], "360p") || strings.HasPrefix(levels[2], "360p"), "%v", levels)

	st := poll[playerStats](t, tb, 15*time.Second, "latency figures", `(() => {
		const s = window.stagecastPlayer.stats();
		return s.latency > 0 && s.pdtLatency !== null && s.rendition && s;
	})()`)
	t.Logf("latency %.2f s (hls.js), %.2f s (program date-time), rendition %s", *st.Latency, *st.PDTLatency, st.Rendition)
	require.Less(t, *st.Latency, 20.0, "a live edge a few segments away")
	require.Less(t, *st.PDTLatency, 30.0)
	require.Greater(t, *st.PDTLatency, -2.0, "the program date-time is near now")
	require.NotEqual(t, "–", eval[string](t, tb, `document.getElementById("latency").textContent`), "the page shows the latency")

	// Pick the 180p rendition (option i is hls.js level i-1).
	lo := slices.IndexFunc(levels, func(l string) bool { return strings.HasPrefix(l, "180p") })
	require.Positive(t, lo, "%v", levels)
	tb.run(t, 10*time.Second, chromedp.SetValue(chromedp.CSS("#levels"), strconv.Itoa(lo-1)))
	eval[bool](t, tb, `document.getElementById("levels").dispatchEvent(new Event("change"))`)
	poll[bool](t, tb, 20*time.Second, "the 180p rendition", `(() => {
		const s = window.stagecastPlayer.stats();
		return s.rendition.startsWith("180p") && window.stagecastPlayer.video.videoHeight === 180;
	})()`)
	require.Empty(t, tb.errors(), "console errors on the player")
}

// The ID3 reader the player uses decodes the frames PutMetadata produces
// and survives damaged input.
func TestPlayerReadsID3(t *testing.T) {
	b := newBrowser(t)
	// The pages alone are enough here.
	srv := httptest.NewServer(web.Handler(web.Options{}))
	t.Cleanup(srv.Close)
	tb := b.tab(t, "id3", true)
	tb.run(t, 20*time.Second, chromedp.Navigate(srv.URL+"/playback"), chromedp.WaitVisible(chromedp.CSS("#video")))

	type frame struct{ ID, Key, Value string }
	got := eval[[]frame](t, tb, `import("/static/id3.js").then(m => {
		const enc = new TextEncoder();
		const syncsafe = n => [(n >> 21) & 127, (n >> 14) & 127, (n >> 7) & 127, n & 127];
		const frameBytes = (id, body, v4) => [...enc.encode(id), ...(v4 ? syncsafe(body.length) : [0, 0, 0, body.length]), 0, 0, ...body];
		const tag = (major, frames) => { const b = frames.flat(); return [0x49, 0x44, 0x33, major, 0, 0, ...syncsafe(b.length), ...b]; };
		const txxx = [3, ...enc.encode("mood"), 0, ...enc.encode("snow ☃ {\"a\":1}")];
		const tit2 = [0, ...enc.encode("Title")];
		const priv = [...enc.encode("com.example"), 0, ...enc.encode("payload")];
		const data = new Uint8Array([...tag(4, [frameBytes("TXXX", txxx, true), frameBytes("PRIV", priv, true)]), ...tag(3, [frameBytes("TIT2", tit2, false)])]);
		return m.parseID3(data).map(f => ({id: f.id, key: f.key, value: f.value}));
	})`)
	require.Equal(t, []frame{
		{"TXXX", "mood", `snow ☃ {"a":1}`},
		{"PRIV", "com.example", "payload"},
		{"TIT2", "", "Title"},
	}, got)

	n := eval[int](t, tb, `import("/static/id3.js").then(m => {
		const bad = [new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 1, 0, 0x54, 0x58, 0x58, 0x58, 0x7f, 0x7f, 0x7f, 0x7f]),
			new Uint8Array([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 20, 0x54, 0x49, 0x54, 0x32, 0xff, 0xff, 0xff, 0xff, 0, 0]),
			new Uint8Array([1, 2, 3]), null, "ID3"];
		return bad.map(b => m.parseID3(b).length).reduce((a, b) => a + b, 0);
	})`)
	require.Zero(t, n, "damaged tags yield no frames and do not throw")
}
