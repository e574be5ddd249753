package origin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/stagecast/stagecast/internal/segstore"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLowLatencyEndToEnd feeds ffmpeg's output in real time through the
// whole pipeline and checks the LL-HLS behaviour over HTTP.
func TestLowLatencyEndToEnd(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Low, container: segstore.FMP4, speed: 1})
	epoch := l.ch.Epoch()
	partName := func(msn uint64, idx int) string { return fmt.Sprintf("part-%s-%d-%d.m4s", epoch, msn, idx) }

	// Wait for the first complete segment and a part of the next.
	waitFor(t, "first segment", 20*time.Second, func() bool { return l.rd.Snapshot().Has(1, 0) })

	t.Run("mid-stream playlist", func(t *testing.T) {
		r := mustGet(t, l.url("playlist.m3u8"), 200)
		if pl, err := playlist.Unmarshal(r.body); err != nil {
			t.Errorf("gohlslib rejects the media playlist: %v", err)
		} else if m, ok := pl.(*playlist.Media); !ok || m.ServerControl == nil || !m.ServerControl.CanBlockReload || m.PartInf == nil || m.PreloadHint == nil || m.Map == nil {
			t.Errorf("gohlslib reads %+v", pl)
		}
		p := parsePlaylist(t, r.body)
		if p.version < 9 || p.partTarget != 0.3 || p.target != 2 {
			t.Errorf("version %d part target %v target %d, want >= 9, 0.3, 2", p.version, p.partTarget, p.target)
		}
		if !strings.Contains(p.serverControl, "CAN-BLOCK-RELOAD=YES") || !strings.Contains(p.serverControl, "PART-HOLD-BACK=0.900") {
			t.Errorf("server control %q", p.serverControl)
		}
		for _, tag := range []string{"#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-MAP", "#EXT-X-PART", "#EXT-X-PRELOAD-HINT"} {
			if p.tags[tag] == 0 {
				t.Errorf("no %s in\n%s", tag, r.body)
			}
		}
		// The preload hint names the part after the last one listed.
		lastMSN := p.mediaSeq + len(p.segments)
		want := partName(uint64(lastMSN), len(p.openParts))
		if strings.Split(p.preloadHint, "?")[0] != want {
			t.Errorf("preload hint %q, want %q", p.preloadHint, want)
		}
		if got := r.header.Get("Cache-Control"); got != "public, max-age=1" {
			t.Errorf("playlist Cache-Control %q", got)
		}
		// The hinted part is served as soon as it exists.
		pr := mustGet(t, l.url(p.preloadHint), 200)
		if part := l.rd.Snapshot().Part(uint64(lastMSN), len(p.openParts)); part == nil || string(part.Data) != string(pr.body) {
			t.Error("hinted part body differs from the stored part")
		}
	})

	t.Run("blocking reload returns when the part exists", func(t *testing.T) {
		snap := l.rd.Snapshot()
		last := snap.Last()
		msn, idx := last.MSN, len(last.Parts)
		if snap.Has(msn, idx) {
			t.Fatal("part exists already")
		}
		r := mustGet(t, l.url(fmt.Sprintf("playlist.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, idx)), 200)
		after := l.rd.Snapshot()
		if !after.Has(msn, idx) {
			t.Fatal("response came before the part existed")
		}
		p := parsePlaylist(t, r.body)
		found := false
		for _, s := range p.segments {
			for _, pp := range s.parts {
				found = found || pp.uri == partName(msn, idx) || pp.uri == partName(msn+1, 0)
			}
		}
		for _, pp := range p.openParts {
			found = found || pp.uri == partName(msn, idx) || pp.uri == partName(msn+1, 0)
		}
		if !found {
			t.Errorf("blocking response lacks %s:\n%s", partName(msn, idx), r.body)
		}
		if got := r.header.Get("Cache-Control"); got != "public, max-age=60" {
			t.Errorf("blocking Cache-Control %q", got)
		}
	})

	t.Run("far future is 400", func(t *testing.T) {
		last := l.rd.Snapshot().Last()
		for _, q := range []string{
			fmt.Sprintf("_HLS_msn=%d", last.MSN+3),
			fmt.Sprintf("_HLS_msn=%d&_HLS_part=%d", last.MSN, len(last.Parts)+10),
			fmt.Sprintf("_HLS_msn=%d&_HLS_part=50", last.MSN+1),
			"_HLS_part=1",
			"_HLS_msn=x",
		} {
			mustGet(t, l.url("playlist.m3u8?"+q), http.StatusBadRequest)
		}
	})

	l.waitDone(t)

	t.Run("client going away releases the request", func(t *testing.T) {
		// The source has ended: the next part never comes, so only the
		// client's cancellation can end this request.
		last := l.rd.Snapshot().Last()
		before := l.inflight.Load()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := get(t, ctx, l.url(fmt.Sprintf("playlist.m3u8?_HLS_msn=%d&_HLS_part=0", last.MSN+1)))
			errc <- err
		}()
		waitFor(t, "request in flight", 5*time.Second, func() bool { return l.inflight.Load() > before })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("client error %v, want canceled", err)
		}
		// The block timeout is 20 s; the handler must return long before.
		waitFor(t, "handler to return", 5*time.Second, func() bool { return l.inflight.Load() == before })
	})

	t.Run("final playlist is consistent and every segment decodes", func(t *testing.T) {
		r := mustGet(t, l.url("playlist.m3u8"), 200)
		p := parsePlaylist(t, r.body)
		if len(p.segments) < 3 {
			t.Fatalf("%d segments from 8 s", len(p.segments))
		}
		if !p.hasMap {
			t.Fatal("no EXT-X-MAP")
		}
		init := mustGet(t, l.url(fmt.Sprintf("init-%s-0.mp4", epoch)), 200)
		if cc := init.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("init Cache-Control %q", cc)
		}
		prev := -1
		for _, s := range p.segments {
			if s.msn <= prev {
				t.Errorf("msn %d after %d", s.msn, prev)
			}
			prev = s.msn
			if math.Round(s.dur) > float64(p.target) {
				t.Errorf("segment %d EXTINF %.3f > TARGETDURATION %d", s.msn, s.dur, p.target)
			}
			var sum float64
			var parts []byte
			for i, pp := range s.parts {
				if pp.dur > p.partTarget+1e-9 {
					t.Errorf("segment %d part %d lasts %.5f > PART-TARGET %.3f", s.msn, i, pp.dur, p.partTarget)
				}
				if i == 0 && !pp.indep {
					t.Errorf("segment %d first part not INDEPENDENT", s.msn)
				}
				sum += pp.dur
				parts = append(parts, mustGet(t, l.url(pp.uri), 200).body...)
			}
			seg := mustGet(t, l.url(s.uri), 200)
			if s.parts != nil {
				if math.Abs(sum-s.dur) > 0.001 {
					t.Errorf("segment %d parts add up to %.5f, EXTINF %.5f", s.msn, sum, s.dur)
				}
				if string(parts) != string(seg.body) {
					t.Errorf("segment %d differs from its parts concatenated", s.msn)
				}
			}
			checkDecodes(t, append(append([]byte(nil), init.body...), seg.body...), fmt.Sprintf("seg%d.mp4", s.msn))
			if ct := seg.header.Get("Content-Type"); ct != "video/mp4" {
				t.Errorf("segment Content-Type %q", ct)
			}
		}
	})

	t.Run("multivariant playlist", func(t *testing.T) {
		r := mustGet(t, l.base+testChan+".m3u8", 200)
		if pl, err := playlist.Unmarshal(r.body); err != nil {
			t.Errorf("gohlslib rejects the multivariant playlist: %v", err)
		} else if mv, ok := pl.(*playlist.Multivariant); !ok || len(mv.Variants) != 1 || mv.Variants[0].Resolution != "1280x720" ||
			len(mv.Variants[0].Codecs) != 2 || mv.Variants[0].FrameRate == nil || *mv.Variants[0].FrameRate != 30 {
			t.Errorf("gohlslib reads %+v", pl)
		}
		body := string(r.body)
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if lines[0] != "#EXTM3U" || len(lines) != 6 || lines[3] != `#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p30",NAME="720p",AUTOSELECT=YES,DEFAULT=YES` {
			t.Fatalf("multivariant:\n%s", body)
		}
		inf := lines[4]
		if !strings.HasPrefix(inf, "#EXT-X-STREAM-INF:") {
			t.Fatalf("no stream inf: %s", body)
		}
		for _, want := range []string{"RESOLUTION=1280x720", `CODECS="avc1.`, `,mp4a.40.2"`, "FRAME-RATE=30.000", "BANDWIDTH=", `VIDEO="720p30"`} {
			if !strings.Contains(inf, want) {
				t.Errorf("stream inf %q lacks %q", inf, want)
			}
		}
		var bw int
		fmt.Sscanf(attr(inf, "BANDWIDTH"), "%d", &bw)
		if bw < 100_000 {
			t.Errorf("BANDWIDTH %d too low for 720p", bw)
		}
		if r.header.Get("Content-Type") != "application/vnd.apple.mpegurl" || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("headers %v", r.header)
		}
		mustGet(t, l.base+lines[5], 200) // relative URI resolves
	})

	t.Run("ended channel is 404", func(t *testing.T) {
		l.ch.Close()
		r := mustGet(t, l.base+testChan+".m3u8", 404)
		if !strings.Contains(string(r.body), "not live") {
			t.Errorf("404 body %q", r.body)
		}
	})
}

// TestTSNormalLatency: a NORMAL channel with TS segments gets plain HLS
// whose segments decode.
func TestTSNormalLatency(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Normal, container: segstore.TS, speed: 0})
	l.waitDone(t)
	r := mustGet(t, l.url("playlist.m3u8?_HLS_msn=1000&_HLS_part=3"), 200) // ignored, not blocking
	p := parsePlaylist(t, r.body)
	if p.tags["#EXT-X-PART"]+p.tags["#EXT-X-PART-INF"]+p.tags["#EXT-X-PRELOAD-HINT"]+p.tags["#EXT-X-SERVER-CONTROL"]+p.tags["#EXT-X-MAP"] != 0 {
		t.Errorf("plain HLS has LL tags:\n%s", r.body)
	}
	if p.version != 3 || len(p.segments) < 3 {
		t.Fatalf("version %d, %d segments:\n%s", p.version, len(p.segments), r.body)
	}
	for _, s := range p.segments {
		if !strings.HasSuffix(s.uri, ".ts") {
			t.Errorf("segment uri %q", s.uri)
		}
		seg := mustGet(t, l.url(s.uri), 200)
		if seg.header.Get("Content-Type") != "video/mp2t" {
			t.Errorf("ts Content-Type %q", seg.header.Get("Content-Type"))
		}
		checkDecodes(t, seg.body, fmt.Sprintf("seg%d.ts", s.msn))
	}
}

type tokenAuth struct{}

func (tokenAuth) Authorize(r *http.Request, arn string) error {
	if arn != testARN {
		return fmt.Errorf("lookup: %w", ErrUnknownChannel)
	}
	if r.URL.Query().Get("token") != "good/token+1" {
		return errors.New("playback token required")
	}
	return nil
}

// TestAuthorizerAndViewers: without a valid token every path is a 403
// with the authorizer's reason; with one, every child URI carries it.
func TestAuthorizerAndViewers(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Low, container: segstore.FMP4, speed: 0, auth: tokenAuth{}})
	l.waitDone(t)
	for _, u := range []string{l.base + testChan + ".m3u8", l.url("playlist.m3u8"), l.url("playlist.m3u8?token=bad")} {
		r := mustGet(t, u, http.StatusForbidden)
		if !strings.Contains(string(r.body), "playback token required") || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("403 body %q headers %v", r.body, r.header)
		}
	}
	mustGet(t, l.base+"us-east-1.123456789012.channel.nonexistent1.m3u8", http.StatusNotFound)
	const q = "token=good%2Ftoken%2B1"
	mv := mustGet(t, l.base+testChan+".m3u8?"+q, 200)
	uri := strings.Split(strings.TrimSpace(string(mv.body)), "\n")[5]
	if !strings.HasSuffix(uri, "?"+q) {
		t.Fatalf("variant URI %q lacks the token", uri)
	}
	pl := mustGet(t, l.base+uri, 200, "User-Agent", "ua-1")
	p := parsePlaylist(t, pl.body)
	if len(p.segments) == 0 {
		t.Fatal("no segments")
	}
	for _, s := range p.segments {
		if !strings.HasSuffix(s.uri, "?"+q) {
			t.Errorf("segment URI %q lacks the token", s.uri)
		}
		for _, pp := range s.parts {
			if !strings.HasSuffix(pp.uri, "?"+q) {
				t.Errorf("part URI %q lacks the token", pp.uri)
			}
		}
	}
	mustGet(t, l.url(p.segments[0].uri), 200)
	if !strings.Contains(string(pl.body), `#EXT-X-MAP:URI="init-`+l.ch.Epoch()+`-0.mp4?`+q+`"`) {
		t.Errorf("map URI lacks the token:\n%s", pl.body)
	}
	// Viewers: the token identifies the viewer; without one, IP + UA.
	if n := l.org.Viewers(testARN); n != 1 {
		t.Errorf("viewers = %d after one token's requests, want 1", n)
	}
	if n := l.org.Viewers("arn:aws:ivs:us-east-1:123456789012:channel/other"); n != 0 {
		t.Errorf("viewers of an unknown channel = %d", n)
	}
}

func TestViewersByAddressAndAgent(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Low, container: segstore.FMP4, speed: 0})
	l.waitDone(t)
	for _, ua := range []string{"a", "b", "a", "c", "b"} {
		mustGet(t, l.url("playlist.m3u8"), 200, "User-Agent", ua)
	}
	mustGet(t, l.url("init-"+l.ch.Epoch()+"-0.mp4"), 200, "User-Agent", "d") // media requests do not count
	if n := l.org.Viewers(testARN); n != 3 {
		t.Errorf("viewers = %d, want 3 distinct user agents", n)
	}
}

func TestHTTPEdges(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Low, container: segstore.FMP4, speed: 0, timeout: 300 * time.Millisecond})
	l.waitDone(t)
	epoch := l.ch.Epoch()
	cases := []struct {
		name, path string
		method     string
		code       int
		body       string
	}{
		{"unknown channel", PathPrefix + "us-east-1.123456789012.channel.zzzzzzzzzzzz.m3u8", "GET", 404, "channel is not live"},
		{"bad channel path", PathPrefix + "us-east-1.123.channel.x.m3u8", "GET", 404, "not found"},
		{"unknown rendition", PathPrefix + testChan + "/1080p60/playlist.m3u8", "GET", 404, "unknown rendition"},
		{"old epoch", PathPrefix + testChan + "/720p30/seg-zzzz-0.m4s", "GET", 404, "stream restarted"},
		{"evicted or unknown part", PathPrefix + testChan + "/720p30/part-" + epoch + "-0-99.m4s", "GET", 404, "no such part"},
		{"traversal", PathPrefix + testChan + "/720p30/../../x", "GET", 404, ""},
		{"post", PathPrefix + testChan + ".m3u8", "POST", 405, ""},
		{"hinted part times out", PathPrefix + testChan + "/720p30/part-" + epoch + "-999-0.m4s", "GET", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, l.srv.URL+tc.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			buf := make([]byte, 512)
			n, _ := res.Body.Read(buf)
			if res.StatusCode != tc.code || !strings.Contains(string(buf[:n]), tc.body) {
				t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, res.StatusCode, buf[:n], tc.code, tc.body)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
		})
	}
	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, l.url("playlist.m3u8"), nil)
		req.Header.Set("Origin", "https://player.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Methods") == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight %d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("rendition reports", func(t *testing.T) {
		const chID = "twoRENDITION"
		ch2 := l.store.Open("arn:aws:ivs:us-east-1:123456789012:channel/"+chID, segstore.Low, segstore.FMP4)
		defer ch2.Close()
		for _, name := range []string{"hi", "lo"} {
			rd, err := ch2.AddRendition(name, segstore.RenditionInfo{Tracks: l.src.Tracks})
			if err != nil {
				t.Fatal(err)
			}
			rd.SetInit([]byte("init"))
			rd.StartSegment(time.Now())
			rd.AddPart([]byte("a"), 300*time.Millisecond, true, 9)
			if name == "lo" {
				rd.AddPart([]byte("b"), 300*time.Millisecond, false, 9)
			}
		}
		base := l.base + "us-east-1.123456789012.channel." + chID + "/"
		r := mustGet(t, base+"hi/playlist.m3u8", 200)
		if !strings.Contains(string(r.body), `#EXT-X-RENDITION-REPORT:URI="../lo/playlist.m3u8",LAST-MSN=0,LAST-PART=1`) ||
			strings.Contains(string(r.body), "../hi/") {
			t.Errorf("rendition reports:\n%s", r.body)
		}
		mustGet(t, base+"hi/../lo/playlist.m3u8", 200)
	})
	t.Run("blocking reload times out with 503", func(t *testing.T) {
		ch2 := l.store.Open("arn:aws:ivs:us-east-1:123456789012:channel/quietQUIET12", segstore.Low, segstore.FMP4)
		defer ch2.Close()
		if _, err := ch2.AddRendition("src", segstore.RenditionInfo{Tracks: l.src.Tracks}); err != nil {
			t.Fatal(err)
		}
		mustGet(t, l.base+"us-east-1.123456789012.channel.quietQUIET12/src/playlist.m3u8?_HLS_msn=0&_HLS_part=0", 503)
		mustGet(t, l.base+"us-east-1.123456789012.channel.quietQUIET12/src/playlist.m3u8", 503)
	})
}

// TestTSLowLatency: IVS's default container (TS) on a LOW channel serves
// LL-HLS with .ts parts whose concatenation is the segment.
func TestTSLowLatency(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveOpts{mode: segstore.Low, container: segstore.TS, speed: 0})
	l.waitDone(t)
	r := mustGet(t, l.url("playlist.m3u8"), 200)
	p := parsePlaylist(t, r.body)
	if p.hasMap || p.version < 9 || p.tags["#EXT-X-PART"] == 0 {
		t.Fatalf("TS LL-HLS playlist:\n%s", r.body)
	}
	s := p.segments[len(p.segments)-1]
	if len(s.parts) == 0 {
		t.Fatalf("last segment lists no parts:\n%s", r.body)
	}
	var parts []byte
	for _, pp := range s.parts {
		if !strings.HasSuffix(pp.uri, ".ts") {
			t.Errorf("part uri %q", pp.uri)
		}
		parts = append(parts, mustGet(t, l.url(pp.uri), 200).body...)
	}
	seg := mustGet(t, l.url(s.uri), 200)
	if string(seg.body) != string(parts) {
		t.Error("TS segment differs from its parts concatenated")
	}
	checkDecodes(t, seg.body, "ll.ts")
}
