package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// keyOnlyInterval is the shortest thumbnail interval for which only key
// frames are decoded (-skip_frame nokey): IVS asks broadcasters for a key frame at least every
// 2 s, so an interval of twice that always finds one, at a fraction of the
// decoding cost. Shorter intervals decode every frame.
const keyOnlyInterval = 4 * time.Second

// ThumbnailConfig is a recording's thumbnailConfiguration as the
// thumbnailer needs it.
type ThumbnailConfig struct {
	// Interval is targetIntervalSeconds (at least 1 s).
	Interval time.Duration
	// Height of the pictures (0 = the source's); see ThumbnailHeight. The
	// width keeps the aspect ratio.
	Height int
	// Queue is the length of the thumbnailer's reader on the source hub
	// (stream.DefaultQueue by default).
	Queue int
}

// Thumbnail is one JPEG picture.
type Thumbnail struct {
	// Seq counts thumbnails from 1 over the thumbnailer's life (restarts
	// included); SEQUENTIAL storage can name files after it.
	Seq           int
	JPEG          []byte
	Width, Height int
	// Time is when the picture was produced.
	Time time.Time
}

// Thumbnailer makes a JPEG of the source every Interval with one
// long-lived ffmpeg and passes each to a callback.
type Thumbnailer struct {
	cfg    ThumbnailConfig
	source *stream.Hub
	on     func(Thumbnail)
	log    *slog.Logger
	proc   *Process

	reader *stream.Reader // set by Run
	carry  *media.Unit    // first unit of a new source timeline (see feedUnits)
	seq    int            // owned by the current incarnation's reader
}

// NewThumbnailer prepares a thumbnailer over source; onThumb is called
// from the Run goroutine tree (one call at a time) and should not block
// for long: the ffmpeg output waits meanwhile.
func NewThumbnailer(cfg config.Transcode, source *stream.Hub, tc ThumbnailConfig, onThumb func(Thumbnail), log *slog.Logger) (*Thumbnailer, error) {
	if tc.Interval < time.Second {
		return nil, fmt.Errorf("thumbnail interval %v is below 1s", tc.Interval)
	}
	if tc.Height < 0 || tc.Height%2 != 0 {
		return nil, fmt.Errorf("thumbnail height %d must be even and not negative", tc.Height)
	}
	if onThumb == nil {
		return nil, errors.New("thumbnailer needs a callback")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	th := &Thumbnailer{cfg: tc, source: source, on: onThumb, log: log.With("component", "transcode")}
	if _, err := newTSInput(source.Tracks(), io.Discard, true); err != nil {
		return nil, err
	}
	th.proc = NewProcess(cfg, Spec{
		Name:   "thumbnails",
		Path:   cfg.FFmpeg,
		Args:   thumbnailArgs(tc),
		Stdin:  true,
		Stdout: true,
		Attach: th.attach,
	}, th.log)
	return th, nil
}

// thumbnailArgs: MPEG-TS video on stdin, the first frame and then one
// frame at least Interval after the previous one picked (select, so the
// first picture comes at once), scaled, as MJPEG pictures on stdout.
func thumbnailArgs(tc ThumbnailConfig) []string {
	vf := fmt.Sprintf("select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,%s)'",
		strconv.FormatFloat(tc.Interval.Seconds(), 'f', -1, 64))
	if tc.Height > 0 {
		vf += fmt.Sprintf(",scale=-2:%d", tc.Height)
	}
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-analyzeduration", "500000", "-probesize", "1000000"}
	if tc.Interval >= keyOnlyInterval {
		args = append(args, "-skip_frame", "nokey")
	}
	return append(args, "-f", "mpegts", "-i", "pipe:0", "-map", "0:v:0", "-an",
		"-vf", vf, "-fps_mode", "passthrough",
		"-c:v", "mjpeg", "-q:v", "3", "-f", "image2pipe", "pipe:1")
}

// Process is the supervised ffmpeg (for tests and operators).
func (th *Thumbnailer) Process() *Process { return th.proc }

// Run makes thumbnails until ctx is done or the source hub closes.
func (th *Thumbnailer) Run(ctx context.Context) error {
	th.reader = th.source.NewReader("thumbnails", th.cfg.Queue)
	defer th.reader.Close()
	return th.proc.Run(ctx)
}

func (th *Thumbnailer) attach(ctx context.Context, p *Pipes) error {
	in, err := newTSInput(th.source.Tracks(), p.Stdin, true)
	if err != nil {
		return err
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		if readErr = th.read(p.Stdout); readErr != nil {
			stopFeed()
			_, _ = io.Copy(io.Discard, p.Stdout)
		}
	})
	feedErr := th.feed(feedCtx, in)
	_ = p.Stdin.Close()
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return feedErr
}

func (th *Thumbnailer) feed(ctx context.Context, in *tsInput) error {
	return feedUnits(ctx, in, th.reader.C(), &th.carry)
}

func (th *Thumbnailer) read(r io.Reader) error {
	jr := newJPEGReader(r)
	for {
		img, err := jr.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read thumbnails: %w", err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
		if err != nil {
			th.log.Warn("thumbnail is not a valid jpeg", "err", err)
			continue
		}
		th.seq++
		th.on(Thumbnail{Seq: th.seq, JPEG: img, Width: cfg.Width, Height: cfg.Height, Time: time.Now()})
	}
}
