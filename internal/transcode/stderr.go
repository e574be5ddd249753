package transcode

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Limits of the stderr reader.
const (
	// maxStderrLine bounds one logged line: ffmpeg lines are short; a
	// longer one is cut, never buffered without bound.
	maxStderrLine = 4096
	// stderrTailLines is how many last lines are kept for the exit report.
	stderrTailLines = 8
)

// stderrLog logs a child's stderr lines, at most limit per window; the
// lines over the limit are counted and reported once per window.
type stderrLog struct {
	log    *slog.Logger
	limit  int
	window time.Duration
	now    func() time.Time

	// Owned by run's goroutine.
	winStart   time.Time
	inWindow   int
	suppressed int

	// mu guards last (read by tail after run returned, but kept safe).
	mu   sync.Mutex
	last []string
}

func newStderrLog(log *slog.Logger, limit int, window time.Duration) *stderrLog {
	return &stderrLog{log: log, limit: limit, window: window, now: time.Now}
}

// splitLines splits on \n or \r (ffmpeg's progress line ends with \r), cuts
// lines longer than maxStderrLine and drops empty ones.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if len(data) >= maxStderrLine {
		return len(data), data, nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func (s *stderrLog) run(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxStderrLine)
	sc.Split(splitLines)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		s.line(string(line))
	}
	s.flush()
}

func (s *stderrLog) line(l string) {
	s.mu.Lock()
	s.last = append(s.last, l)
	if len(s.last) > stderrTailLines {
		s.last = s.last[len(s.last)-stderrTailLines:]
	}
	s.mu.Unlock()

	now := s.now()
	if now.Sub(s.winStart) >= s.window {
		s.flush()
		s.winStart, s.inWindow = now, 0
	}
	s.inWindow++
	if s.limit > 0 && s.inWindow <= s.limit {
		s.log.Info("stderr", "line", l)
		return
	}
	s.suppressed++
}

func (s *stderrLog) flush() {
	if s.suppressed > 0 {
		s.log.Info("stderr lines suppressed", "lines", s.suppressed, "window", s.window)
		s.suppressed = 0
	}
}

func (s *stderrLog) tail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.last...)
}
