package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stagecast/stagecast/internal/config"
)

// ErrInputDone is returned by an Attach hook to say that the input is
// finished and the process should be left to drain and exit by itself: Run
// does not restart it and returns nil once it has exited.
var ErrInputDone = errors.New("transcode: input done")

// ErrRestart is returned by an Attach hook to have the child stopped
// (SIGINT) and started again at once, without backoff: e.g. when the input
// jumped to a new timeline that the running child cannot follow.
var ErrRestart = errors.New("transcode: restart requested")

// PipeDir says which way an extra pipe carries data.
type PipeDir int

// Pipe directions, seen from the child.
const (
	// ChildReads is an input of the child (we write): e.g. "-i pipe:3".
	ChildReads PipeDir = iota + 1
	// ChildWrites is an output of the child (we read): e.g. "pipe:4".
	ChildWrites
)

// Spec describes the process to run. Path and Args are fixed; what changes
// per incarnation is given to Attach.
type Spec struct {
	// Name identifies the process in logs ("ladder", "thumbnails").
	Name string
	// Path is the binary (config.Transcode.FFmpeg for ffmpeg).
	Path string
	// Args are the arguments after the binary name.
	Args []string
	// Env is added to the inherited environment.
	Env []string
	// Dir is the working directory ("" = ours).
	Dir string

	// Stdin and Stdout ask for pipes on fd 0 and 1 (otherwise /dev/null).
	Stdin, Stdout bool
	// Pipes are extra pipes: Pipes[i] is the child's fd 3+i ("pipe:3").
	Pipes []PipeDir

	// Attach, when set, runs once per incarnation right after the child
	// started, in a goroutine the Process owns, with the parent ends of the
	// pipes. Its ctx is cancelled when the child exits or the Process is
	// stopped; the child is not restarted before Attach returned. Attach
	// owns the ends it is given and should close the ones the child reads
	// when it has nothing more to write (the Process closes everything left
	// open after Attach returns). Returning ErrInputDone ends the
	// supervision once the child exits; another error is logged and the
	// child is stopped (and restarted by Run).
	Attach func(ctx context.Context, p *Pipes) error
	// OnExit, when set, is called (from the Run goroutine) after each
	// incarnation ended and Attach returned.
	OnExit func(Exit)
}

// Pipes are the parent's ends of one incarnation's pipes. Fields are nil
// when the Spec did not ask for them.
type Pipes struct {
	// Incarnation counts starts from 1.
	Incarnation int
	Stdin       *os.File // we write, the child reads fd 0
	Stdout      *os.File // we read, the child writes fd 1
	// Extra[i] is the parent end of the child's fd 3+i.
	Extra []*os.File
}

// Exit is how one incarnation ended.
type Exit struct {
	Incarnation int
	PID         int
	// Code is the exit status, -1 when the child was killed by a signal.
	Code int
	// Signal is the signal that killed the child (0 when it exited).
	Signal syscall.Signal
	// Stopped is true when we asked the child to stop (SIGINT); Killed when
	// it outlived the grace period and got SIGKILL.
	Stopped, Killed bool
	// Err is a start or wait failure (nil for any normal exit).
	Err error
	// User and System are the child's CPU times (rusage).
	User, System   time.Duration
	Started, Ended time.Time
	// StderrTail holds the last stderr lines, for error reports.
	StderrTail []string
}

// Success reports a zero exit status.
func (e Exit) Success() bool { return e.Err == nil && e.Code == 0 && e.Signal == 0 }

// CPU returns user plus system time.
func (e Exit) CPU() time.Duration { return e.User + e.System }

func (e Exit) String() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Signal != 0:
		return "signal: " + e.Signal.String()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ExitError is returned by RunOnce when the child did not succeed.
type ExitError struct{ Exit Exit }

func (e *ExitError) Error() string {
	return fmt.Sprintf("process %d: %s", e.Exit.PID, e.Exit.String())
}

// Process runs one Spec, once (RunOnce) or supervised (Run). A Process is
// run by one goroutine at a time.
type Process struct {
	spec Spec
	cfg  config.Transcode
	log  *slog.Logger

	starts atomic.Int64
	cpu    atomic.Int64 // children's user+system time, all incarnations

	// mu guards cur, the running child (nil between incarnations), and
	// last, the latest exit.
	mu      sync.Mutex
	cur     *os.Process
	last    Exit
	hasLast bool
}

// NewProcess returns a Process for spec; cfg gives the stop grace period,
// restart backoff and stderr rate limit (zero fields take the defaults).
func NewProcess(cfg config.Transcode, spec Spec, log *slog.Logger) *Process {
	d := config.Default().Transcode
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = d.StopGrace
	}
	if cfg.RestartMin <= 0 {
		cfg.RestartMin = d.RestartMin
	}
	if cfg.RestartMax < cfg.RestartMin {
		cfg.RestartMax = max(d.RestartMax, cfg.RestartMin)
	}
	if cfg.StderrWindow <= 0 {
		cfg.StderrWindow = d.StderrWindow
	}
	if cfg.StderrLines == 0 {
		cfg.StderrLines = d.StderrLines
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Process{spec: spec, cfg: cfg, log: log.With("process", spec.Name)}
}

// ChildCPU returns the CPU time (user + system, from rusage) of every
// incarnation that has exited.
func (p *Process) ChildCPU() time.Duration { return time.Duration(p.cpu.Load()) }

// LastExit returns how the latest incarnation ended (false before any).
func (p *Process) LastExit() (Exit, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.hasLast
}

// Starts returns how many times the child was started.
func (p *Process) Starts() int { return int(p.starts.Load()) }

// Signal sends sig to the running child's process group (for tests and
// operators); it fails when no child is running. The group is only
// signalled before the child is reaped, so its ID cannot have been reused.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return errors.New("process not running")
	}
	if err := syscall.Kill(-p.cur.Pid, sig); err != nil {
		return fmt.Errorf("signal process group %d: %w", p.cur.Pid, err)
	}
	return nil
}

// RunOnce starts the child once and waits for it to exit. When ctx is
// done the child gets SIGINT, then SIGKILL after the grace period. It
// returns the exit and a non-nil error (an *ExitError) unless the child
// exited 0, or was stopped through ctx, or its Attach returned
// ErrInputDone.
func (p *Process) RunOnce(ctx context.Context) (Exit, error) {
	ex, attachErr := p.incarnation(ctx)
	if p.spec.OnExit != nil {
		p.spec.OnExit(ex)
	}
	if ex.Err != nil {
		return ex, fmt.Errorf("run %s: %w", p.spec.Name, ex.Err)
	}
	if ex.Success() || ex.Stopped || errors.Is(attachErr, ErrInputDone) {
		return ex, nil
	}
	return ex, &ExitError{Exit: ex}
}

// Run keeps the child running until ctx is done, restarting it with capped
// exponential backoff (RestartMin, doubling, at most RestartMax) whenever
// it exits. It returns nil when ctx is done or Attach returned ErrInputDone,
// always after the child and every goroutine it owns have exited; it
// returns an error only when the binary cannot be started at all on the
// first attempt.
func (p *Process) Run(ctx context.Context) error {
	delay := p.cfg.RestartMin
	for n := 0; ; n++ {
		if ctx.Err() != nil {
			return nil
		}
		ex, attachErr := p.incarnation(ctx)
		if p.spec.OnExit != nil {
			p.spec.OnExit(ex)
		}
		if ctx.Err() != nil || errors.Is(attachErr, ErrInputDone) {
			return nil
		}
		if n == 0 && ex.Err != nil && errors.Is(ex.Err, errStart) {
			return fmt.Errorf("run %s: %w", p.spec.Name, ex.Err)
		}
		if errors.Is(attachErr, ErrRestart) {
			p.log.Info("restarting process on request", "pid", ex.PID, "incarnation", ex.Incarnation)
			continue
		}
		if ex.Ended.Sub(ex.Started) >= p.cfg.RestartMax {
			delay = p.cfg.RestartMin
		}
		p.log.Warn("process exited, restarting", "exit", ex.String(), "pid", ex.PID,
			"incarnation", ex.Incarnation, "restart_in", delay, "stderr_tail", ex.StderrTail)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(delay*2, p.cfg.RestartMax)
	}
}

var errStart = errors.New("start failed")

// pipeSet holds both ends of every pipe of one incarnation.
type pipeSet struct {
	parent Pipes
	child  []*os.File // closed after Start
	all    []*os.File // parent ends, closed after Attach
}

func (p *Process) makePipes(n int) (*pipeSet, *exec.Cmd, error) {
	ps := &pipeSet{parent: Pipes{Incarnation: n}}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	if len(p.spec.Env) > 0 {
		cmd.Env = append(os.Environ(), p.spec.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	mk := func(childReads bool) (parent, child *os.File, err error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("pipe: %w", err)
		}
		if childReads {
			parent, child = w, r
		} else {
			parent, child = r, w
		}
		ps.child = append(ps.child, child)
		ps.all = append(ps.all, parent)
		return parent, child, nil
	}
	var err error
	var c *os.File
	if p.spec.Stdin {
		if ps.parent.Stdin, c, err = mk(true); err != nil {
			ps.closeAll()
			return nil, nil, err
		}
		cmd.Stdin = c
	}
	if p.spec.Stdout {
		if ps.parent.Stdout, c, err = mk(false); err != nil {
			ps.closeAll()
			return nil, nil, err
		}
		cmd.Stdout = c
	}
	for _, d := range p.spec.Pipes {
		var par *os.File
		if par, c, err = mk(d == ChildReads); err != nil {
			ps.closeAll()
			return nil, nil, err
		}
		ps.parent.Extra = append(ps.parent.Extra, par)
		cmd.ExtraFiles = append(cmd.ExtraFiles, c)
	}
	return ps, cmd, nil
}

func (ps *pipeSet) closeChild() {
	for _, f := range ps.child {
		_ = f.Close()
	}
	ps.child = nil
}

func (ps *pipeSet) closeAll() {
	ps.closeChild()
	for _, f := range ps.all {
		_ = f.Close()
	}
}

// incarnation starts the child once and returns after it exited and every
// goroutine of this incarnation returned. The second result is Attach's
// error.
func (p *Process) incarnation(ctx context.Context) (Exit, error) {
	n := int(p.starts.Add(1))
	ex := Exit{Incarnation: n, Code: -1, Started: time.Now()}
	ps, cmd, err := p.makePipes(n)
	if err != nil {
		ex.Err, ex.Ended = fmt.Errorf("%w: %w", errStart, err), time.Now()
		return ex, nil
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		ps.closeAll()
		ex.Err, ex.Ended = fmt.Errorf("%w: stderr pipe: %w", errStart, err), time.Now()
		return ex, nil
	}
	cmd.Stderr = stderrW

	p.mu.Lock()
	err = cmd.Start()
	if err == nil {
		p.cur = cmd.Process
	}
	p.mu.Unlock()
	_ = stderrW.Close()
	ps.closeChild()
	if err != nil {
		_ = stderrR.Close()
		ps.closeAll()
		ex.Err, ex.Ended = fmt.Errorf("%w: %w", errStart, err), time.Now()
		p.log.Error("cannot start process", "path", p.spec.Path, "err", err)
		return ex, nil
	}
	ex.PID = cmd.Process.Pid
	p.log.Info("process started", "pid", ex.PID, "incarnation", n, "path", p.spec.Path)

	var wg sync.WaitGroup
	defer wg.Wait()

	lines := newStderrLog(p.log, p.cfg.StderrLines, p.cfg.StderrWindow)
	stderrDone := make(chan struct{})
	wg.Go(func() {
		defer close(stderrDone)
		lines.run(stderrR)
	})

	// incCtx ends the incarnation for Attach: child exit or stop.
	incCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	attachDone := make(chan error, 1)
	if p.spec.Attach != nil {
		wg.Go(func() { attachDone <- p.spec.Attach(incCtx, &ps.parent) })
	} else {
		attachDone <- nil
	}

	waitDone := make(chan error, 1)
	wg.Go(func() {
		// Wait for the exit without reaping: while the child is a zombie
		// its process group ID cannot be reused, so signalling -pid (here
		// and in stop) never reaches an unrelated group. Then kill what is
		// left of the group (grandchildren) and reap.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, ex.PID, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		p.mu.Lock()
		_ = syscall.Kill(-ex.PID, syscall.SIGKILL)
		p.cur = nil
		p.mu.Unlock()
		waitDone <- cmd.Wait()
	})

	var (
		attachErr   error
		attachEnded bool
		waitErr     error
		killTimer   <-chan time.Time
		stopping    bool
	)
	stop := func(why string) {
		if stopping {
			return
		}
		stopping = true
		ex.Stopped = true
		p.log.Debug("stopping process", "pid", ex.PID, "reason", why)
		_ = p.Signal(syscall.SIGINT)
		killTimer = time.After(p.cfg.StopGrace)
	}
	ctxDone := ctx.Done()
loop:
	for {
		select {
		case <-ctxDone:
			ctxDone = nil
			cancel()
			stop("context done")
		case attachErr = <-attachDone:
			attachEnded = true
			attachDone = nil
			switch {
			case attachErr == nil || errors.Is(attachErr, ErrInputDone) || ctx.Err() != nil:
			case errors.Is(attachErr, ErrRestart):
				stop("restart requested")
			default:
				p.log.Warn("process i/o failed, stopping it", "pid", ex.PID, "err", attachErr)
				stop("i/o failed")
			}
			if errors.Is(attachErr, ErrInputDone) && killTimer == nil {
				// Let the child drain, but not forever.
				killTimer = time.After(p.cfg.StopGrace + p.cfg.RestartMax)
			}
		case <-killTimer:
			killTimer = nil
			ex.Killed = true
			p.log.Warn("process did not stop in time, killing it", "pid", ex.PID, "grace", p.cfg.StopGrace)
			_ = p.Signal(syscall.SIGKILL)
		case waitErr = <-waitDone:
			break loop
		}
	}
	cancel()
	if !attachEnded {
		// Attach sees EOF on the child's outputs and EPIPE on its inputs;
		// if it still hangs (a grandchild kept a pipe), close our ends.
		select {
		case attachErr = <-attachDone:
		case <-time.After(p.cfg.StopGrace):
			p.log.Warn("process i/o did not finish after exit, closing pipes", "pid", ex.PID)
			ps.closeAll()
			attachErr = <-attachDone
		}
	}
	ps.closeAll()
	select {
	case <-stderrDone:
	case <-time.After(p.cfg.StopGrace):
		// A grandchild outside the group kept stderr open.
	}
	_ = stderrR.Close()
	wg.Wait()

	ex.Ended = time.Now()
	ex.StderrTail = lines.tail()
	if st := cmd.ProcessState; st != nil {
		ex.User, ex.System = st.UserTime(), st.SystemTime()
		p.cpu.Add(int64(ex.User + ex.System))
		if ws, ok := st.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				ex.Signal = ws.Signal()
			} else {
				ex.Code = ws.ExitStatus()
			}
		}
	} else if waitErr != nil {
		ex.Err = fmt.Errorf("wait: %w", waitErr)
	}
	p.mu.Lock()
	p.last, p.hasLast = ex, true
	p.mu.Unlock()
	lvl := slog.LevelInfo
	if !ex.Success() && !ex.Stopped {
		lvl = slog.LevelWarn
	}
	p.log.Log(context.Background(), lvl, "process exited", "pid", ex.PID, "incarnation", n,
		"exit", ex.String(), "stopped", ex.Stopped, "killed", ex.Killed,
		"cpu", ex.CPU(), "ran", ex.Ended.Sub(ex.Started))
	return ex, attachErr
}
