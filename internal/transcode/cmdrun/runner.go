package cmdrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// MaxOutputBytes is how much combined stdout+stderr is kept (the tail is
// dropped): enough for an error message, bounded against chatty commands.
const MaxOutputBytes = 64 << 10

// DefaultGrace is the time between SIGTERM and SIGKILL.
const DefaultGrace = 2 * time.Second

// Runner runs commands. The zero value is ready to use.
type Runner struct {
	// Grace between SIGTERM and SIGKILL when ctx ends; 0 = DefaultGrace.
	Grace time.Duration
	// Env, when not nil, replaces the child's environment.
	Env []string
}

// limited keeps the first MaxOutputBytes written to it.
type limited struct{ bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if room := MaxOutputBytes - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Run starts argv[0] with argv[1:], writes stdin to it and waits. It
// returns the output and an error when the command could not start,
// exited non-zero, or was killed because ctx ended.
func (r Runner) Run(ctx context.Context, argv []string, stdin []byte) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out limited
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = r.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Output pipes are closed this long after the child exits even if a
	// grandchild still holds them.
	cmd.WaitDelay = grace
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		// The whole group: a "sh -c" child must not outlive the deadline.
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	err := cmd.Wait()
	close(done)
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return out.Bytes(), fmt.Errorf("run %s: %w (%v)", argv[0], ctx.Err(), err)
		}
		return out.Bytes(), fmt.Errorf("run %s: %w", argv[0], err)
	}
	return out.Bytes(), nil
}
