package sfu

import (
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs to slog: errors at info (they are mostly
// closed sockets on teardown), everything else at debug.
type pionLogs struct{ log *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion_scope", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) Trace(string)          {}
func (l pionLogger) Tracef(string, ...any) {}
func (l pionLogger) Debug(m string)        { l.log.Debug(m) }
func (l pionLogger) Debugf(f string, a ...any) {
	l.log.Debug(fmt.Sprintf(f, a...))
}
func (l pionLogger) Info(m string)            { l.log.Debug(m) }
func (l pionLogger) Infof(f string, a ...any) { l.log.Debug(fmt.Sprintf(f, a...)) }
func (l pionLogger) Warn(m string)            { l.log.Debug(m) }
func (l pionLogger) Warnf(f string, a ...any) { l.log.Debug(fmt.Sprintf(f, a...)) }
func (l pionLogger) Error(m string)           { l.log.Info(m) }
func (l pionLogger) Errorf(f string, a ...any) {
	l.log.Info(fmt.Sprintf(f, a...))
}

// DiscardPionLogs is a pion logger factory that drops everything (for
// in-process clients such as the load generator).
var DiscardPionLogs logging.LoggerFactory = pionLogs{slog.New(slog.DiscardHandler)}
