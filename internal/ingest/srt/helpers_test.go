package srt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

// TestMain fails the run if a goroutine of this package outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			leaked := false
			for _, g := range strings.Split(stacks, "\n\n") {
				if strings.Contains(g, "internal/ingest/srt.") && !strings.Contains(g, "TestMain") {
					leaked = true
					if time.Now().After(deadline) {
						fmt.Fprintf(os.Stderr, "leaked goroutine:\n%s\n", g)
					}
				}
			}
			if !leaked {
				break
			}
			if time.Now().After(deadline) {
				code = 1
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// fakeSink admits the keys it was given, one publisher per key.
type fakeSink struct {
	mu       sync.Mutex
	keys     map[string]string // key -> SRT passphrase
	active   map[string]*fakeSession
	sessions []*fakeSession
	calls    int // Publish calls
	rejects  []error
	newSess  chan *fakeSession
}

// newFakeSink admits keys, alternating key and SRT passphrase.
func newFakeSink(keyPass ...string) *fakeSink {
	f := &fakeSink{keys: map[string]string{}, active: map[string]*fakeSession{}, newSess: make(chan *fakeSession, 16)}
	for i := 0; i+1 < len(keyPass); i += 2 {
		f.keys[keyPass[i]] = keyPass[i+1]
	}
	return f
}

func (f *fakeSink) Publish(_ context.Context, req ingest.Request) (ingest.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	key := req.StreamKey.Reveal()
	if _, ok := f.keys[key]; !ok {
		f.rejects = append(f.rejects, ingest.ErrUnknownStreamKey)
		return nil, ingest.ErrUnknownStreamKey
	}
	if f.active[key] != nil {
		f.rejects = append(f.rejects, ingest.ErrChannelBusy)
		return nil, ingest.ErrChannelBusy
	}
	s := &fakeSession{sink: f, key: key, req: req, done: make(chan struct{}), closed: make(chan struct{})}
	f.active[key] = s
	f.sessions = append(f.sessions, s)
	f.newSess <- s
	return s, nil
}

func (f *fakeSink) SRTPassphrase(_ context.Context, key auth.Secret) (auth.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.keys[key.Reveal()]
	if !ok {
		return "", ingest.ErrUnknownStreamKey
	}
	return auth.Secret(p), nil
}

func (f *fakeSink) publishCalls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, len(f.sessions)
}

type fakeSession struct {
	sink *fakeSink
	key  string
	req  ingest.Request

	stopOnce sync.Once
	done     chan struct{}

	mu       sync.Mutex
	units    []*media.Unit
	closeErr error
	nclose   int
	closed   chan struct{}
}

func (s *fakeSession) Write(u *media.Unit) {
	s.mu.Lock()
	s.units = append(s.units, u)
	s.mu.Unlock()
}

func (s *fakeSession) Done() <-chan struct{} { return s.done }

func (s *fakeSession) stop() { s.stopOnce.Do(func() { close(s.done) }) }

func (s *fakeSession) Close(err error) {
	s.mu.Lock()
	s.nclose++
	first := s.nclose == 1
	if first {
		s.closeErr = err
	}
	s.mu.Unlock()
	if first {
		s.sink.mu.Lock()
		if s.sink.active[s.key] == s {
			delete(s.sink.active, s.key)
		}
		s.sink.mu.Unlock()
		close(s.closed)
	}
}

func (s *fakeSession) ChannelARN() string {
	return "arn:aws:ivs:us-east-1:123456789012:channel/abcdEFGHijkl"
}

func (s *fakeSession) snapshot() []*media.Unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*media.Unit(nil), s.units...)
}

func (s *fakeSession) waitClosed(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(within):
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "internal/ingest/") {
				t.Log(g)
			}
		}
		t.Fatalf("session not closed within %s", within)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

func waitSession(t *testing.T, f *fakeSink, within time.Duration) *fakeSession {
	t.Helper()
	select {
	case s := <-f.newSess:
		return s
	case <-time.After(within):
		t.Fatalf("no session within %s", within)
	}
	return nil
}

// logBuffer is a concurrency-safe log sink tests can search.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitLog polls the log for substr.
func (l *logBuffer) waitLog(t *testing.T, substr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(l.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q within %s:\n%s", substr, within, l.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServer runs a server on 127.0.0.1:0 until the test ends and checks
// that Run returns after cancellation.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	})
	return s
}

// ffmpegPublishArgs is the test picture and tone encoded like a typical
// OBS/ffmpeg setup, for seconds of media.
func ffmpegPublishArgs(seconds int) []string {
	return []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
		"-c:a", "aac"}
}

type ffmpegResult struct {
	err    error
	stderr string
}

// runFFmpeg starts ffmpeg with args; the result arrives on the channel when
// it exits. The process is killed when the test ends.
func runFFmpeg(t *testing.T, args ...string) <-chan ffmpegResult {
	res, _ := startFFmpeg(t, args...)
	return res
}

// startFFmpeg is runFFmpeg that also returns a function killing ffmpeg
// (SIGKILL: no clean unpublish).
func startFFmpeg(t *testing.T, args ...string) (<-chan ffmpegResult, func()) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	res := make(chan ffmpegResult, 1)
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		res <- ffmpegResult{err: err, stderr: stderr.String()}
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	return res, cancel
}

func waitFFmpeg(t *testing.T, res <-chan ffmpegResult, within time.Duration) ffmpegResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(within):
		t.Fatalf("ffmpeg still running after %s", within)
	}
	return ffmpegResult{}
}

// checkUnits asserts per-track increasing DTS, at least minPerTrack units
// per track and a key frame on every video track.
func checkUnits(t *testing.T, tracks []media.Track, units []*media.Unit, minPerTrack []int) {
	t.Helper()
	last := map[int]int64{}
	count := map[int]int{}
	keys := map[int]int{}
	for _, u := range units {
		if u.DTS < 0 || u.PTS < 0 {
			t.Fatalf("track %d: negative timestamp DTS %d PTS %d", u.Track, u.DTS, u.PTS)
		}
		if u.Track < 0 || u.Track >= len(tracks) {
			t.Fatalf("unit for unknown track %d", u.Track)
		}
		if c := count[u.Track]; c > 0 && u.DTS <= last[u.Track] {
			t.Fatalf("track %d: DTS %d after %d (unit %d)", u.Track, u.DTS, last[u.Track], c)
		}
		if u.Size() == 0 {
			t.Fatalf("track %d: empty unit", u.Track)
		}
		if u.Arrival.IsZero() {
			t.Fatalf("track %d: no arrival time", u.Track)
		}
		last[u.Track] = u.DTS
		count[u.Track]++
		if u.Key {
			keys[u.Track]++
		}
	}
	for i, tr := range tracks {
		if count[i] < minPerTrack[i] {
			t.Errorf("track %d (%s): %d units, want >= %d", i, tr, count[i], minPerTrack[i])
		}
		// GOP 30 over 3-4 s; over SRT on a loaded machine a key frame
		// (the largest unit, many packets) is the likeliest to be lost.
		if tr.Kind == media.Video && keys[i] < 1 {
			t.Errorf("track %d: no key frame", i)
		}
	}
}

func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}
