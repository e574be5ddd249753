package origin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/packager/cmaf"
	"github.com/stagecast/stagecast/internal/packager/cmaf/cmaftest"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
	"github.com/stagecast/stagecast/internal/testutil/mediatest"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testChanID  = "abcdABCD1234"
	testARN     = "arn:aws:ivs:" + testRegion + ":" + testAccount + ":channel/" + testChanID
	testChan    = testRegion + "." + testAccount + ".channel." + testChanID
)

var (
	srcOnce sync.Once
	srcData *cmaftest.Source
	srcErr  error
)

// source returns 8 s of 1280x720 30 fps H.264 (1 s GOP) + AAC made by
// ffmpeg, demuxed into units.
func source(t testing.TB) *cmaftest.Source {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	srcOnce.Do(func() {
		out, err := mediatest.TestPatternTS(8)
		if err != nil {
			srcErr = err
			return
		}
		srcData, srcErr = cmaftest.Demux(out)
	})
	if srcErr != nil {
		t.Fatalf("source: %v", srcErr)
	}
	return srcData
}

// live is a channel fed from the ffmpeg source through hub, segmenter,
// segstore and origin, served by an httptest server.
type live struct {
	src      *cmaftest.Source
	store    *segstore.Store
	ch       *segstore.Channel
	rd       *segstore.Rendition
	hub      *stream.Hub
	seg      *cmaf.Segmenter
	org      *Origin
	srv      *httptest.Server
	inflight atomic.Int64
	fed      chan struct{} // closed when the feed finished
	done     chan struct{} // closed when the segmenter returned
	base     string        // server URL + PathPrefix
}

type liveOpts struct {
	mode      segstore.LatencyMode
	container segstore.Container
	speed     float64
	auth      Authorizer
	timeout   time.Duration
	// routes adds test-only handlers (player page) to the server's mux.
	routes func(*http.ServeMux)
}

func startLive(t *testing.T, o liveOpts) *live {
	t.Helper()
	src := source(t)
	l := &live{src: src, fed: make(chan struct{}), done: make(chan struct{})}
	l.store = segstore.New(segstore.Options{PartTarget: 300 * time.Millisecond, SegmentTarget: 2 * time.Second, WindowSegments: 10})
	l.ch = l.store.Open(testARN, o.mode, o.container)
	var err error
	l.rd, err = l.ch.AddRendition("720p30", segstore.RenditionInfo{Tracks: src.Tracks})
	if err != nil {
		t.Fatal(err)
	}
	l.hub = stream.NewHub(src.Tracks, nil)
	l.seg, err = cmaf.New(l.hub.NewReader("segmenter", len(src.Units)+1), src.Tracks, l.rd, cmaf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o.timeout == 0 {
		o.timeout = 20 * time.Second
	}
	l.org = New(Options{Store: l.store, Authorizer: o.auth, BlockTimeout: o.timeout})
	mux := http.NewServeMux()
	l.org.Register(mux)
	if o.routes != nil {
		o.routes(mux)
	}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.inflight.Add(1)
		defer l.inflight.Add(-1)
		mux.ServeHTTP(w, r)
	}))
	l.base = l.srv.URL + PathPrefix
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(l.done)
		if err := l.seg.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("segmenter: %v", err)
		}
	})
	wg.Go(func() {
		defer close(l.fed)
		_ = src.Feed(ctx, l.hub, o.speed)
		l.hub.Close()
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		l.ch.Close()
		l.srv.Close()
	})
	return l
}

// waitDone waits for the whole source to be segmented.
func (l *live) waitDone(t *testing.T) {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(40 * time.Second):
		t.Fatal("segmenter did not finish")
	}
}

func (l *live) url(rel string) string { return l.base + testChan + "/720p30/" + rel }

type response struct {
	code   int
	header http.Header
	body   []byte
}

func get(t testing.TB, ctx context.Context, url string, hdr ...string) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}, err
}

func mustGet(t testing.TB, url string, want int, hdr ...string) response {
	t.Helper()
	r, err := get(t, context.Background(), url, hdr...)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if r.code != want {
		t.Fatalf("GET %s: %d %q, want %d", url, r.code, r.body, want)
	}
	return r
}

// playlist is a parsed media playlist.
type mediaPL struct {
	version, target, mediaSeq int
	partTarget                float64
	serverControl             string
	hasMap                    bool
	segments                  []plSegment
	// parts of the segment after the last complete one (open segment)
	openParts   []plPart
	preloadHint string
	tags        map[string]int
	ended       bool
}

type plSegment struct {
	msn   int
	dur   float64
	uri   string
	parts []plPart
	disc  bool
}

type plPart struct {
	dur   float64
	uri   string
	indep bool
}

func attr(line, key string) string {
	for _, kv := range strings.Split(line[strings.IndexByte(line, ':')+1:], ",") {
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func parsePlaylist(t testing.TB, body []byte) mediaPL {
	t.Helper()
	p := mediaPL{tags: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	var parts []plPart
	var extinf float64 = -1
	disc := false
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			if line != "#EXTM3U" {
				t.Fatalf("playlist does not start with #EXTM3U: %q", line)
			}
			first = false
			continue
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			name, _, _ := strings.Cut(line, ":")
			p.tags[name]++
			val := strings.TrimPrefix(line, name+":")
			switch name {
			case "#EXT-X-VERSION":
				p.version, _ = strconv.Atoi(val)
			case "#EXT-X-TARGETDURATION":
				p.target, _ = strconv.Atoi(val)
			case "#EXT-X-MEDIA-SEQUENCE":
				p.mediaSeq, _ = strconv.Atoi(val)
			case "#EXT-X-PART-INF":
				p.partTarget, _ = strconv.ParseFloat(attr(line, "PART-TARGET"), 64)
			case "#EXT-X-SERVER-CONTROL":
				p.serverControl = val
			case "#EXT-X-MAP":
				p.hasMap = true
			case "#EXT-X-PART":
				d, _ := strconv.ParseFloat(attr(line, "DURATION"), 64)
				parts = append(parts, plPart{dur: d, uri: attr(line, "URI"), indep: attr(line, "INDEPENDENT") == "YES"})
			case "#EXT-X-PRELOAD-HINT":
				p.preloadHint = attr(line, "URI")
			case "#EXTINF":
				extinf, _ = strconv.ParseFloat(strings.TrimSuffix(val, ","), 64)
			case "#EXT-X-DISCONTINUITY":
				disc = true
			case "#EXT-X-ENDLIST":
				p.ended = true
			}
			continue
		}
		if extinf < 0 {
			t.Fatalf("URI %q without EXTINF", line)
		}
		p.segments = append(p.segments, plSegment{msn: p.mediaSeq + len(p.segments), dur: extinf, uri: line, parts: parts, disc: disc})
		parts, extinf, disc = nil, -1, false
	}
	p.openParts = parts
	return p
}

type probeStream struct {
	CodecType    string `json:"codec_type"`
	CodecName    string `json:"codec_name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	NbReadFrames string `json:"nb_read_frames"`
}

// checkDecodes runs ffprobe -count_frames on data and requires 1280x720
// H.264 and AAC streams with decoded frames.
func checkDecodes(t testing.TB, data []byte, name string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_frames", "-of", "json", p)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", name, err, stderr.String())
	}
	var res struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var video, audio bool
	for _, s := range res.Streams {
		ok := s.NbReadFrames != "" && s.NbReadFrames != "0"
		switch s.CodecType {
		case "video":
			video = ok && s.CodecName == "h264" && s.Width == 1280 && s.Height == 720
		case "audio":
			audio = ok && s.CodecName == "aac"
		}
	}
	if !video || !audio {
		t.Errorf("%s: streams %+v, want decodable 1280x720 h264 and aac", name, res.Streams)
	}
}
