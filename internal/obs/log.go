package obs

import (
	"io"
	"log/slog"
)

// NewLogger returns a logger writing to w in format "text" or "json" at
// level "debug", "info", "warn" or "error".
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Component returns log with the subsystem's component attribute.
func Component(log *slog.Logger, name string) *slog.Logger {
	return log.With("component", name)
}
