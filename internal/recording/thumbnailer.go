package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/stream"
	"github.com/stagecast/stagecast/internal/transcode"
)

// FFmpegThumbnailer is the Thumbnailer over transcode.Thumbnailer (one
// supervised ffmpeg per recorded stream).
type FFmpegThumbnailer struct {
	Transcode config.Transcode
	Log       *slog.Logger
}

// Thumbnails implements Thumbnailer.
func (f FFmpegThumbnailer) Thumbnails(ctx context.Context, hub *stream.Hub, every time.Duration, emit func([]byte)) error {
	th, err := transcode.NewThumbnailer(f.Transcode, hub, transcode.ThumbnailConfig{Interval: every},
		func(t transcode.Thumbnail) { emit(t.JPEG) }, f.Log)
	if err != nil {
		return fmt.Errorf("thumbnailer: %w", err)
	}
	if err := th.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return fmt.Errorf("thumbnailer: %w", err)
	}
	return nil
}
