package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/config"
)

// recordHandler keeps log records for assertions.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Message == msg {
			n++
		}
	}
	return n
}

func (h *recordHandler) attr(msg, key string) []slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Value
	for _, r := range h.recs {
		if r.Message != msg {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				out = append(out, a.Value)
			}
			return true
		})
	}
	return out
}

func testCfg() config.Transcode {
	c := config.Default().Transcode
	c.StopGrace = 2 * time.Second
	return c
}

// checkGoroutines fails the test if goroutines started during it are still
// running shortly after it ended.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		start := time.Now()
		deadline := start.Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if d := time.Since(start); d > time.Second {
			t.Logf("goroutines took %v to wind down", d)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProcessRestartsAfterKillAndReattaches(t *testing.T) {
	checkGoroutines(t)
	var mu sync.Mutex
	var incarnations []int
	var exits []Exit
	got := make(chan string, 16)
	p := NewProcess(testCfg(), Spec{
		Name:   "cat",
		Path:   "/bin/cat",
		Stdin:  true,
		Stdout: true,
		Attach: func(ctx context.Context, io_ *Pipes) error {
			mu.Lock()
			incarnations = append(incarnations, io_.Incarnation)
			mu.Unlock()
			if _, err := io_.Stdin.WriteString("hello\n"); err != nil {
				return err
			}
			line, err := bufio.NewReader(io_.Stdout).ReadString('\n')
			if err != nil {
				return err
			}
			got <- strings.TrimSpace(line)
			<-ctx.Done()
			return nil
		},
		OnExit: func(e Exit) {
			mu.Lock()
			exits = append(exits, e)
			mu.Unlock()
		},
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	if s := <-got; s != "hello" {
		t.Fatalf("first incarnation echoed %q", s)
	}
	killed := time.Now()
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("second incarnation echoed %q", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no restart within 2 s")
	}
	if d := time.Since(killed); d > 2*time.Second {
		t.Fatalf("restart took %v", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(incarnations) != 2 || incarnations[0] != 1 || incarnations[1] != 2 {
		t.Fatalf("Attach incarnations %v, want [1 2]", incarnations)
	}
	if len(exits) != 2 {
		t.Fatalf("%d exits, want 2", len(exits))
	}
	if exits[0].Signal != syscall.SIGKILL || exits[0].Stopped {
		t.Errorf("first exit %+v, want killed by SIGKILL from outside", exits[0])
	}
	if !exits[1].Stopped || exits[1].Killed {
		t.Errorf("second exit %+v, want stopped without SIGKILL", exits[1])
	}
	if p.Starts() != 2 {
		t.Errorf("Starts() = %d", p.Starts())
	}
}

func TestProcessStopWithSIGINTReportsExitStatus(t *testing.T) {
	checkGoroutines(t)
	cases := []struct {
		name       string
		script     string
		wantCode   int
		wantSignal syscall.Signal
		wantKilled bool
	}{
		{"traps SIGINT and exits 3", `trap 'exit 3' INT; echo ready; while :; do sleep 0.05; done`, 3, 0, false},
		{"dies of SIGINT", `echo ready; exec sleep 30`, -1, syscall.SIGINT, false},
		{"ignores SIGINT and is killed", `trap '' INT; echo ready; while :; do sleep 0.05; done`, -1, syscall.SIGKILL, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.StopGrace = 300 * time.Millisecond
			ready := make(chan struct{})
			p := NewProcess(cfg, Spec{
				Name: "sh", Path: "/bin/sh", Args: []string{"-c", c.script}, Stdout: true,
				Attach: func(ctx context.Context, io_ *Pipes) error {
					if _, err := bufio.NewReader(io_.Stdout).ReadString('\n'); err != nil {
						return err
					}
					close(ready)
					<-ctx.Done()
					return nil
				},
			}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			type res struct {
				ex  Exit
				err error
			}
			done := make(chan res, 1)
			go func() { ex, err := p.RunOnce(ctx); done <- res{ex, err} }()
			<-ready
			cancel()
			r := <-done
			if r.err != nil {
				t.Fatalf("RunOnce after stop: %v", r.err)
			}
			if r.ex.Code != c.wantCode || r.ex.Signal != c.wantSignal || r.ex.Killed != c.wantKilled || !r.ex.Stopped {
				t.Fatalf("exit %+v, want code %d signal %v killed %v", r.ex, c.wantCode, c.wantSignal, c.wantKilled)
			}
		})
	}
}

func TestProcessRunOnceReportsFailure(t *testing.T) {
	checkGoroutines(t)
	p := NewProcess(testCfg(), Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "echo boom >&2; exit 7"}}, nil)
	ex, err := p.RunOnce(context.Background())
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Exit.Code != 7 || ex.Code != 7 {
		t.Fatalf("RunOnce = %+v, %v; want exit status 7", ex, err)
	}
	if len(ex.StderrTail) != 1 || ex.StderrTail[0] != "boom" {
		t.Fatalf("stderr tail %q", ex.StderrTail)
	}
	p = NewProcess(testCfg(), Spec{Name: "missing", Path: "/nonexistent/ffmpeg"}, nil)
	if err := p.Run(context.Background()); err == nil {
		t.Fatal("Run of a missing binary must fail")
	}
}

func TestProcessStderrIsRateLimited(t *testing.T) {
	checkGoroutines(t)
	h := &recordHandler{}
	cfg := testCfg()
	cfg.StderrLines = 5
	cfg.StderrWindow = time.Hour
	// 1000 lines, half ending in \r like ffmpeg's progress line.
	script := `i=0; while [ $i -lt 500 ]; do printf 'frame=%d\r' $i >&2; echo "line $i" >&2; i=$((i+1)); done`
	p := NewProcess(cfg, Spec{Name: "noisy", Path: "/bin/sh", Args: []string{"-c", script}}, slog.New(h))
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count("stderr"); n != 5 {
		t.Fatalf("%d stderr lines logged, want 5", n)
	}
	sup := h.attr("stderr lines suppressed", "lines")
	if len(sup) != 1 || sup[0].Int64() != 995 {
		t.Fatalf("suppressed report %v, want one report of 995", sup)
	}
}

func TestProcessInputDoneEndsSupervision(t *testing.T) {
	checkGoroutines(t)
	var out []byte
	p := NewProcess(testCfg(), Spec{
		Name: "tr", Path: "/usr/bin/tr", Args: []string{"a-z", "A-Z"}, Stdin: true, Pipes: nil, Stdout: true,
		Attach: func(ctx context.Context, io_ *Pipes) error {
			if _, err := io_.Stdin.WriteString("abc"); err != nil {
				return err
			}
			io_.Stdin.Close()
			b, err := io.ReadAll(io_.Stdout)
			out = b
			if err != nil {
				return err
			}
			return ErrInputDone
		},
	}, nil)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(out) != "ABC" || p.Starts() != 1 {
		t.Fatalf("out %q starts %d", out, p.Starts())
	}
}

func TestProcessExtraPipes(t *testing.T) {
	checkGoroutines(t)
	// The child copies fd 3 to fd 4.
	var out []byte
	p := NewProcess(testCfg(), Spec{
		Name: "sh", Path: "/bin/sh", Args: []string{"-c", "cat <&3 >&4"},
		Pipes: []PipeDir{ChildReads, ChildWrites},
		Attach: func(ctx context.Context, io_ *Pipes) error {
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() {
				_, werr = io_.Extra[0].WriteString("through fd 3 and 4")
				io_.Extra[0].Close()
			})
			b, err := io.ReadAll(io_.Extra[1])
			wg.Wait()
			out = b
			return errors.Join(err, werr)
		},
	}, nil)
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(out) != "through fd 3 and 4" {
		t.Fatalf("out %q", out)
	}
}

func TestProcessKillsItsGroupWhenTheChildExits(t *testing.T) {
	checkGoroutines(t)
	var grandchild int
	p := NewProcess(testCfg(), Spec{
		Name: "sh", Path: "/bin/sh", Args: []string{"-c", "sleep 30 & echo $!; exit 0"}, Stdout: true,
		Attach: func(ctx context.Context, io_ *Pipes) error {
			line, err := bufio.NewReader(io_.Stdout).ReadString('\n')
			if err != nil {
				return err
			}
			grandchild, err = strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				return err
			}
			// The grandchild keeps stdout open; EOF comes when the group dies.
			_, err = io.Copy(io.Discard, io_.Stdout)
			return err
		},
	}, nil)
	done := make(chan error, 1)
	go func() { _, err := p.RunOnce(context.Background()); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunOnce still waiting for the grandchild after 10 s")
	}
	waitFor(t, "the grandchild to die", 5*time.Second, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", grandchild))
		// Gone, or a zombie waiting for init to reap it.
		return err != nil || strings.Contains(string(b), ") Z ")
	})
}
