package ingesttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// CheckLeaks is for TestMain: after a passing run (code 0) it waits up to
// 5 s for goroutines whose stacks mention marker (e.g.
// "internal/ingest/rtmp.") to end, prints those left and returns 1.
//
//	func TestMain(m *testing.M) { os.Exit(ingesttest.CheckLeaks(m.Run(), "internal/ingest/rtmp.")) }
func CheckLeaks(code int, marker string) int {
	if code != 0 {
		return code
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, marker) && !strings.Contains(g, "TestMain") && !strings.Contains(g, "ingesttest.CheckLeaks") {
				leaked = true
				if time.Now().After(deadline) {
					fmt.Printf("leaked goroutine:\n%s\n", g)
				}
			}
		}
		if !leaked {
			return 0
		}
		if time.Now().After(deadline) {
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Sink is an ingest.Sink that admits the keys it was given, refuses a
// second publisher per key, and records every session.
type Sink struct {
	mu       sync.Mutex
	Keys     map[string]string // key -> SRT passphrase
	Active   map[string]*Session
	Sessions []*Session
	Calls    int // Publish calls
	Rejects  []error
	NewSess  chan *Session
}

// NewSinkWithPassphrases admits keys, alternating key and SRT passphrase.
func NewSinkWithPassphrases(keyPass ...string) *Sink {
	f := &Sink{Keys: map[string]string{}, Active: map[string]*Session{}, NewSess: make(chan *Session, 16)}
	for i := 0; i+1 < len(keyPass); i += 2 {
		f.Keys[keyPass[i]] = keyPass[i+1]
	}
	return f
}

// NewSink admits keys (no SRT passphrase).
func NewSink(keys ...string) *Sink {
	f := NewSinkWithPassphrases()
	for _, k := range keys {
		f.Keys[k] = ""
	}
	return f
}

func (f *Sink) Publish(_ context.Context, req ingest.Request) (ingest.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	key := req.StreamKey.Reveal()
	if _, ok := f.Keys[key]; !ok {
		f.Rejects = append(f.Rejects, ingest.ErrUnknownStreamKey)
		return nil, ingest.ErrUnknownStreamKey
	}
	if f.Active[key] != nil {
		f.Rejects = append(f.Rejects, ingest.ErrChannelBusy)
		return nil, ingest.ErrChannelBusy
	}
	s := &Session{sink: f, key: key, Req: req, done: make(chan struct{}), Closed: make(chan struct{})}
	f.Active[key] = s
	f.Sessions = append(f.Sessions, s)
	f.NewSess <- s
	return s, nil
}

func (f *Sink) SRTPassphrase(_ context.Context, key auth.Secret) (auth.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.Keys[key.Reveal()]
	if !ok {
		return "", ingest.ErrUnknownStreamKey
	}
	return auth.Secret(p), nil
}

func (f *Sink) PublishCalls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Calls, len(f.Sessions)
}

// Session records what a protocol server writes.
type Session struct {
	sink *Sink
	key  string
	Req  ingest.Request

	stopOnce sync.Once
	done     chan struct{}

	mu       sync.Mutex
	units    []*media.Unit
	closeErr error
	nclose   int
	Closed   chan struct{}
}

func (s *Session) Write(u *media.Unit) {
	s.mu.Lock()
	s.units = append(s.units, u)
	s.mu.Unlock()
}

func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) Stop() { s.stopOnce.Do(func() { close(s.done) }) }

func (s *Session) Close(err error) {
	s.mu.Lock()
	s.nclose++
	first := s.nclose == 1
	if first {
		s.closeErr = err
	}
	s.mu.Unlock()
	if first {
		s.sink.mu.Lock()
		if s.sink.Active[s.key] == s {
			delete(s.sink.Active, s.key)
		}
		s.sink.mu.Unlock()
		close(s.Closed)
	}
}

func (s *Session) ChannelARN() string {
	return "arn:aws:ivs:us-east-1:123456789012:channel/abcdEFGHijkl"
}

func (s *Session) Snapshot() []*media.Unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*media.Unit(nil), s.units...)
}

func (s *Session) WaitClosed(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-s.Closed:
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

// WaitSession returns the next session f admits.
func WaitSession(t testing.TB, f *Sink, within time.Duration) *Session {
	t.Helper()
	select {
	case s := <-f.NewSess:
		return s
	case <-time.After(within):
		t.Fatalf("no session within %s", within)
	}
	return nil
}

// LogBuffer is a concurrency-safe log sink tests can search.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitLog polls the log for substr.
func (l *LogBuffer) WaitLog(t *testing.T, substr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(l.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q within %s:\n%s", substr, within, l.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FFmpegPublishArgs is the test picture and tone encoded like a typical
// OBS/ffmpeg setup, for seconds of media.
func FFmpegPublishArgs(seconds int) []string {
	return []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
		"-c:a", "aac"}
}

type FFmpegResult struct {
	Err    error
	Stderr string
}

// RunFFmpeg starts ffmpeg with args; the result arrives on the channel when
// it exits. The process is killed when the test ends.
func RunFFmpeg(t *testing.T, args ...string) <-chan FFmpegResult {
	res, _ := StartFFmpeg(t, args...)
	return res
}

// StartFFmpeg is RunFFmpeg that also returns a function killing ffmpeg
// (SIGKILL: no clean unpublish).
func StartFFmpeg(t *testing.T, args ...string) (<-chan FFmpegResult, func()) {
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
	res := make(chan FFmpegResult, 1)
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		res <- FFmpegResult{Err: err, Stderr: stderr.String()}
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	return res, cancel
}

func WaitFFmpeg(t *testing.T, res <-chan FFmpegResult, within time.Duration) FFmpegResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(within):
		t.Fatalf("ffmpeg still running after %s", within)
	}
	return FFmpegResult{}
}

// CheckUnits asserts per-track increasing DTS, at least minPerTrack units
// per track and a key frame on every video track.
// minKeys is the least number of key frames a video track must show.
func CheckUnits(t *testing.T, tracks []media.Track, units []*media.Unit, minPerTrack []int, minKeys int) {
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
		if tr.Kind == media.Video && keys[i] < minKeys {
			t.Errorf("track %d: %d key frames, want >= %d", i, keys[i], minKeys)
		}
	}
}

// IsExitError reports whether err is a process's non-zero exit.
func IsExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}
