package origin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/segstore"
)

var (
	benchViewers  = flag.Int("viewers", 100, "BenchmarkBlockingViewers: concurrent LL-HLS viewers")
	benchDuration = flag.Duration("viewers-duration", 6*time.Second, "BenchmarkBlockingViewers: measured run length")
	benchParts    = flag.Bool("viewers-fetch-parts", true, "BenchmarkBlockingViewers: viewers also download every part")
)

// Synthetic stream for the viewer benchmark: 300 ms parts of 30 KB
// (800 kbit/s), 7 parts (2 s) per segment.
const (
	benchPartTarget = 300 * time.Millisecond
	benchPartSize   = 30_000
	benchWarmup     = 2 * time.Second
)

// clientResult is what the viewer client process reports.
type clientResult struct {
	Recv     [][3]int64  `json:"recv"` // msn, part, unix ns received
	Errors   int         `json:"errors"`
	Codes    map[int]int `json:"codes,omitempty"`
	Requests int         `json:"requests"`
}

// BenchmarkBlockingViewers measures how many LL-HLS viewers doing
// blocking playlist reloads (and part downloads) one channel sustains:
// latency from a part's publication to a viewer receiving the playlist
// that lists it. The viewers run in a child process (this test binary,
// TestViewerClient) so that each side has its own descriptor limit.
//
//	go test -run '^$' -bench BlockingViewers -benchtime 1x ./internal/origin -viewers 10000
func BenchmarkBlockingViewers(b *testing.B) {
	raiseNoFile()
	store := segstore.New(segstore.Options{PartTarget: benchPartTarget, SegmentTarget: 2 * time.Second, WindowSegments: 7})
	ch := store.Open(testARN, segstore.Low, segstore.FMP4)
	defer ch.Close()
	rd, err := ch.AddRendition("720p30", segstore.RenditionInfo{})
	if err != nil {
		b.Fatal(err)
	}
	rd.SetInit(make([]byte, 800))
	org := New(Options{Store: store, BlockTimeout: 6 * time.Second})
	mux := http.NewServeMux()
	org.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.IdleTimeout = time.Minute
	srv.Start()
	defer srv.Close()

	for b.Loop() {
		var mu sync.Mutex
		published := map[[2]int64]time.Time{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		start := time.Now()
		wg.Go(func() {
			writeSynthetic(ctx, rd, func(msn uint64, idx int, at time.Time) {
				mu.Lock()
				published[[2]int64{int64(msn), int64(idx)}] = at
				mu.Unlock()
			})
		})

		cpu0 := cpuTime()
		out := filepath.Join(b.TempDir(), "viewers.json")
		cmd := exec.Command(os.Args[0], "-test.run=^TestViewerClient$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"STAGECAST_VIEWER_URL="+srv.URL+PathPrefix+testChan+"/720p30/playlist.m3u8",
			"STAGECAST_VIEWER_N="+strconv.Itoa(*benchViewers),
			"STAGECAST_VIEWER_DURATION="+(*benchDuration+benchWarmup).String(),
			"STAGECAST_VIEWER_PARTS="+strconv.FormatBool(*benchParts),
			"STAGECAST_VIEWER_OUT="+out)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		err := cmd.Run()
		cancel()
		wg.Wait()
		serverCPU := cpuTime() - cpu0
		if os.Getenv("STAGECAST_VIEWER_DEBUG") != "" {
			b.Log(stderr.String())
		}
		if err != nil {
			b.Fatalf("viewer client: %v\n%s", err, stderr.String())
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		var res clientResult
		if err := json.Unmarshal(raw, &res); err != nil {
			b.Fatal(err)
		}
		var lat []time.Duration
		for _, r := range res.Recv {
			at, ok := published[[2]int64{r[0], r[1]}]
			if !ok || at.Sub(start) < benchWarmup {
				continue
			}
			lat = append(lat, time.Unix(0, r[2]).Sub(at))
		}
		if len(lat) == 0 {
			b.Fatalf("no measured responses (errors %d)\n%s", res.Errors, stderr.String())
		}
		slices.Sort(lat)
		late := 0
		for _, d := range lat {
			if d > benchPartTarget {
				late++
			}
		}
		parts := len(published)
		pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
		b.ReportMetric(float64(*benchViewers), "viewers")
		b.ReportMetric(pct(0.50), "p50_ms")
		b.ReportMetric(pct(0.99), "p99_ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
		b.ReportMetric(100*float64(late)/float64(len(lat)), "late_%")
		b.ReportMetric(float64(res.Errors), "errors")
		b.ReportMetric(float64(res.Requests)/(*benchDuration+benchWarmup).Seconds(), "req/s")
		// Server CPU per request, and the viewers two cores could serve
		// at that cost (each viewer makes 1 or 2 requests per part).
		perReq := serverCPU / time.Duration(max(res.Requests, 1))
		reqPerViewer := float64(time.Second/benchPartTarget) + 0.33
		if *benchParts {
			reqPerViewer *= 2
		}
		capacity := 2 / (perReq.Seconds() * reqPerViewer)
		b.ReportMetric(float64(perReq.Microseconds()), "server_cpu_us/req")
		b.ReportMetric(capacity, "viewers_per_2_cores")
		b.Logf("server cpu %s for %d requests: %s/request; two cores would serve ~%.0f viewers", serverCPU, res.Requests, perReq, capacity)
		b.Logf("viewers=%d parts=%d measured=%d p50=%.1fms p99=%.1fms max=%.1fms late(>%s)=%.2f%% errors=%d %v requests=%d",
			*benchViewers, parts, len(lat), pct(0.5), pct(0.99), float64(lat[len(lat)-1].Microseconds())/1000,
			benchPartTarget, 100*float64(late)/float64(len(lat)), res.Errors, res.Codes, res.Requests)
	}
}

// writeSynthetic publishes 300 ms parts on a real-time schedule until ctx
// ends.
func writeSynthetic(ctx context.Context, rd *segstore.Rendition, onPart func(uint64, int, time.Time)) {
	data := make([]byte, benchPartSize)
	t := time.NewTicker(benchPartTarget)
	defer t.Stop()
	for {
		rd.StartSegment(time.Now())
		msn := rd.Snapshot().Last().MSN
		for idx := range 7 {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if idx == 6 {
				rd.AddFinalPart(data, benchPartTarget, false, 9) // as the segmenter cuts
			} else {
				rd.AddPart(data, benchPartTarget, idx == 0, 9)
			}
			onPart(msn, idx, time.Now())
		}
	}
}

func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// TestViewerClient is the viewer side of BenchmarkBlockingViewers; it
// only runs when the benchmark starts it.
func TestViewerClient(t *testing.T) {
	url := os.Getenv("STAGECAST_VIEWER_URL")
	if url == "" {
		t.Skip("started by BenchmarkBlockingViewers only")
	}
	raiseNoFile()
	if p := os.Getenv("STAGECAST_VIEWER_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	n, _ := strconv.Atoi(os.Getenv("STAGECAST_VIEWER_N"))
	dur, _ := time.ParseDuration(os.Getenv("STAGECAST_VIEWER_DURATION"))
	parts := os.Getenv("STAGECAST_VIEWER_PARTS") == "true"
	deadline := time.Now().Add(dur)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	path := u.Path
	base := path[:len(path)-len("playlist.m3u8")]
	results := make([]clientResult, n)
	var wg sync.WaitGroup
	// Ramp connections up over a second so the accept backlog holds.
	step := time.Second / time.Duration(max(n, 1))
	for i := range n {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * step)
			viewer(u.Host, path, base, parts, deadline, &results[i])
		})
	}
	wg.Wait()
	var all clientResult
	for _, r := range results {
		all.Recv = append(all.Recv, r.Recv...)
		all.Errors += r.Errors
		for k, v := range r.Codes {
			if all.Codes == nil {
				all.Codes = map[int]int{}
			}
			all.Codes[k] += v
		}
		all.Requests += r.Requests
	}
	raw, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("STAGECAST_VIEWER_OUT"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

var hintTag = []byte(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`)

// nextPart reads the preload hint: part-<epoch>-<msn>-<idx>.m4s.
func nextPart(body []byte) (name string, msn, idx int64, ok bool) {
	i := bytes.LastIndex(body, hintTag)
	if i < 0 {
		return "", 0, 0, false
	}
	rest := body[i+len(hintTag):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", 0, 0, false
	}
	name = string(rest[:j])
	f := bytes.Split(bytes.TrimSuffix(rest[:j], []byte(".m4s")), []byte("-"))
	if len(f) != 4 {
		return "", 0, 0, false
	}
	msn, err1 := strconv.ParseInt(string(f[2]), 10, 64)
	idx, err2 := strconv.ParseInt(string(f[3]), 10, 64)
	return name, msn, idx, err1 == nil && err2 == nil
}

// leanConn is a minimal HTTP/1.1 keep-alive client: the benchmark's
// viewers share the machine with the server, so they must cost little.
type leanConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte
}

// get fetches path and returns the status and the body (valid until the
// next call).
func (l *leanConn) get(path string) (int, []byte, error) {
	if l.c == nil {
		c, err := net.Dial("tcp", l.addr)
		if err != nil {
			return 0, nil, err
		}
		l.c, l.br = c, bufio.NewReaderSize(c, 64<<10)
	}
	l.req = append(l.req[:0], "GET "...)
	l.req = append(l.req, path...)
	l.req = append(l.req, " HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n"...)
	_ = l.c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := l.c.Write(l.req); err != nil {
		l.close()
		return 0, nil, err
	}
	status, n := 0, -1
	for {
		line, err := l.br.ReadSlice('\n')
		if err != nil {
			l.close()
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if status == 0 {
			if len(line) < 12 {
				l.close()
				return 0, nil, fmt.Errorf("bad status line %q", line)
			}
			status, _ = strconv.Atoi(string(line[9:12]))
			continue
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 0 {
		l.close()
		return 0, nil, fmt.Errorf("no content length")
	}
	if cap(l.body) < n {
		l.body = make([]byte, n)
	}
	l.body = l.body[:n]
	if _, err := io.ReadFull(l.br, l.body); err != nil {
		l.close()
		return 0, nil, err
	}
	return status, l.body, nil
}

func (l *leanConn) close() {
	if l.c != nil {
		_ = l.c.Close()
		l.c = nil
	}
}

func viewer(addr, path, base string, parts bool, deadline time.Time, res *clientResult) {
	lc := &leanConn{addr: addr}
	defer lc.close()
	fetch := func(p string) ([]byte, bool) {
		res.Requests++
		code, b, err := lc.get(p)
		if err != nil || code != 200 {
			res.Errors++
			if res.Codes == nil {
				res.Codes = map[int]int{}
			}
			res.Codes[code]++
			if os.Getenv("STAGECAST_VIEWER_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "%d %s %v %s\n", code, p, err, b)
			}
			return nil, false
		}
		return b, true
	}
	body, ok := fetch(path)
	var q, hint []byte
	for time.Now().Before(deadline) {
		if !ok {
			time.Sleep(100 * time.Millisecond)
			body, ok = fetch(path)
			continue
		}
		name, msn, idx, hok := nextPart(body)
		if !hok {
			ok = false
			continue
		}
		q = append(q[:0], path...)
		q = append(q, "?_HLS_msn="...)
		q = strconv.AppendInt(q, msn, 10)
		q = append(q, "&_HLS_part="...)
		q = strconv.AppendInt(q, idx, 10)
		body, ok = fetch(string(q))
		if !ok {
			continue
		}
		res.Recv = append(res.Recv, [3]int64{msn, idx, time.Now().UnixNano()})
		if parts {
			// The part fetch reuses the body buffer: keep the hint.
			i := bytes.LastIndex(body, hintTag)
			hint = append(hint[:0], body[max(i, 0):]...)
			if _, pok := fetch(base + name); !pok {
				continue
			}
			body = hint
		}
	}
}

// cpuTime returns this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nullWriter is a ResponseWriter that discards, so BenchmarkServe*
// measure the origin's own work (no network, no net/http).
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// BenchmarkServePlaylist: one blocking playlist request whose part exists
// (the wake-up path minus the network), and one part request.
func BenchmarkServePlaylist(b *testing.B) {
	store := segstore.New(segstore.Options{})
	ch := store.Open(testARN, segstore.Low, segstore.FMP4)
	defer ch.Close()
	rd, _ := ch.AddRendition("720p30", segstore.RenditionInfo{})
	rd.SetInit(make([]byte, 800))
	for seg := range 8 {
		rd.StartSegment(time.Now())
		for i := range 7 {
			if i == 6 && seg < 7 {
				rd.AddFinalPart(make([]byte, benchPartSize), benchPartTarget, false, 9)
			} else {
				rd.AddPart(make([]byte, benchPartSize), benchPartTarget, i == 0, 9)
			}
		}
	}
	org := New(Options{Store: store})
	last := rd.Snapshot().Last()
	for _, tc := range []struct{ name, url string }{
		{"blocking_playlist", fmt.Sprintf("%s%s/720p30/playlist.m3u8?_HLS_msn=%d&_HLS_part=%d", PathPrefix, testChan, last.MSN, len(last.Parts)-1)},
		{"part", fmt.Sprintf("%s%s/720p30/part-%s-%d-%d.m4s", PathPrefix, testChan, ch.Epoch(), last.MSN, 1)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tc.url, nil)
			req.RemoteAddr = "127.0.0.1:5555"
			w := &nullWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				org.ServeHTTP(w, req)
			}
		})
	}
}
