package compose

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/stagecast/stagecast/internal/compose/canvas"
	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/transcode"
)

// decoderQueue is each decoder's input queue: about four seconds of 30 fps
// video or 50 audio packets per second; a full queue drops (video then
// waits for the next key frame).
const decoderQueue = 128

func newParticipant(id string, src Source, log *slog.Logger, hint layout.Tile, cpu *processCPU) *participant {
	p := &participant{id: id, src: src, log: log, rehint: make(chan struct{}, 1), cpu: cpu}
	p.hint.Store(&hint)
	return p
}

// participant is one publisher in a composition.
type participant struct {
	id     string
	src    Source
	log    *slog.Logger
	latest atomic.Pointer[canvas.Frame]
	// decoded counts decoded pictures; dropped counts units lost to full
	// decoder queues.
	decoded, dropped atomic.Uint64
	// hint is the tile the video decoder scales for; rehint wakes the
	// decoder loop to restart at a new size. restarts counts resizes.
	hint     atomic.Pointer[layout.Tile]
	rehint   chan struct{}
	restarts atomic.Uint64
	cpu      *processCPU
}

// setHint asks for decoded pictures of about tile's size; the video
// decoder restarts with the new size when it differs enough (see rehint).
func (p *participant) setHint(tile layout.Tile) {
	if old := p.hint.Load(); old != nil && !rehint(*old, tile) {
		return
	}
	p.hint.Store(&tile)
	select {
	case p.rehint <- struct{}{}:
	default:
	}
}

// rehint reports whether a decoder producing pictures for tile a should
// restart for tile b: a fill mode change, or a size off by more than a
// quarter (smaller: wasted decode and pipe bandwidth; larger: blur).
func rehint(a, b layout.Tile) bool {
	off := func(x, y int) bool { return y*4 > x*5 || y*4 < x*3 }
	return a.Fill != b.Fill || off(a.W, b.W) || off(a.H, b.H)
}

// runVideo runs the video decoder, restarting it at a new size when the
// tile changes (the last picture is held and scaled meanwhile, the new
// decoder starts at the next key frame).
func (p *participant) runVideo(ctx context.Context, o *Options, t media.Track, vin chan *media.Unit, keyFrame func()) {
	for {
		hint := *p.hint.Load()
		dctx, cancel := context.WithCancel(ctx)
		proc := transcode.NewProcess(o.Transcode, transcode.Spec{
			Name: "compose-video-decoder", Path: decoderPath(o), Args: decoderArgs(o, videoDecoderArgs(t, hint, o.Threads)),
			Stdin: true, Stdout: true, OnExit: p.cpu.onExit(kindVideoDecoder),
			Attach: func(ctx context.Context, io *transcode.Pipes) error {
				keyFrame() // every incarnation starts at a key frame
				var w unitWriter
				if t.Codec == media.H264 {
					w = newAnnexB(io.Stdin, t)
				} else {
					w = &ivf{w: io.Stdin, t: t}
				}
				return attachDecoder(ctx, io, vin, true, w, func() error {
					r := canvas.NewY4MReader(io.Stdout)
					for {
						f, err := r.Next()
						if err != nil {
							return err
						}
						p.setFrame(f)
					}
				})
			},
		}, p.log)
		exited := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(exited)
			logRunErr(p.log, "video decoder", proc.Run(dctx))
		})
	wait:
		for {
			select {
			case <-p.rehint:
				if *p.hint.Load() == hint {
					continue // a stale wake-up: this decoder has the size
				}
				cancel()
				wg.Wait()
				if ctx.Err() != nil {
					return
				}
				p.restarts.Add(1)
				p.log.Debug("video decoder resized", "width", p.hint.Load().W, "height", p.hint.Load().H)
				break wait
			case <-exited: // input ended, ctx done or the binary cannot start
				cancel()
				wg.Wait()
				return
			}
		}
	}
}

func (p *participant) setFrame(f *canvas.Frame) {
	c := &canvas.Frame{W: f.W, H: f.H}
	c.SetBytes(f.Bytes(make([]byte, 0, canvas.Size(f.W, f.H))))
	p.latest.Store(c)
	if p.decoded.Add(1) == 1 {
		p.log.Debug("first picture decoded", "width", f.W, "height", f.H)
	}
}

// run subscribes the decoders to the source until it ends or ctx is done;
// it returns after the decoders exited.
func (p *participant) run(ctx context.Context, o *Options, mixer interface{ Write(string, []byte) }, keyFrame func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer p.src.Close()
	tracks := p.src.Tracks()
	vi, ai := -1, -1
	for i, t := range tracks {
		switch {
		case vi < 0 && t.Kind == media.Video && (t.Codec == media.H264 || t.Codec == media.VP8):
			vi = i
		case ai < 0 && t.Kind == media.Audio && (t.Codec == media.Opus || t.Codec == media.AAC):
			ai = i
		}
	}
	var wg sync.WaitGroup
	var vin, ain chan *media.Unit
	if vi >= 0 {
		vin = make(chan *media.Unit, decoderQueue)
		wg.Go(func() { p.runVideo(ctx, o, tracks[vi], vin, keyFrame) })
	}
	if ai >= 0 {
		ain = make(chan *media.Unit, decoderQueue)
		proc := transcode.NewProcess(o.Transcode, transcode.Spec{
			Name: "compose-audio-decoder", Path: decoderPath(o), Args: decoderArgs(o, audioDecoderArgs()),
			Stdin: true, Stdout: true, OnExit: p.cpu.onExit(kindAudioDecoder),
			Attach: func(ctx context.Context, io *transcode.Pipes) error {
				w, err := newTSAudio(io.Stdin, tracks[ai])
				if err != nil {
					return err
				}
				return attachDecoder(ctx, io, ain, false, w, func() error {
					buf := make([]byte, 3840)
					for {
						n, err := io.Stdout.Read(buf)
						if n > 0 {
							mixer.Write(p.id, buf[:n])
						}
						if err != nil {
							return err
						}
					}
				})
			},
		}, p.log)
		wg.Go(func() { logRunErr(p.log, "audio decoder", proc.Run(ctx)) })
	}
	p.dispatch(ctx, vi, ai, vin, ain)
	if vin != nil {
		close(vin)
	}
	if ain != nil {
		close(ain)
	}
	wg.Wait()
}

// dispatch routes the source's units to the decoders until the source
// ends or ctx is done.
func (p *participant) dispatch(ctx context.Context, vi, ai int, vin, ain chan *media.Unit) {
	videoGap := false
	first := true
	for {
		var u *media.Unit
		var ok bool
		select {
		case <-ctx.Done():
			return
		case u, ok = <-p.src.C():
			if !ok {
				return
			}
		}
		if first {
			p.log.Debug("first unit from the publisher", "track", u.Track, "key", u.Key)
			first = false
		}
		switch {
		case u.Track == vi && vin != nil:
			if videoGap && !u.Key {
				p.dropped.Add(1)
				continue
			}
			select {
			case vin <- u:
				videoGap = false
			default:
				videoGap = true
				p.dropped.Add(1)
			}
		case u.Track == ai && ain != nil:
			select {
			case ain <- u:
			default:
				p.dropped.Add(1)
			}
		}
	}
}

// attachDecoder feeds in to the decoder's stdin (from a key frame when
// video) while read consumes its stdout. It returns ErrInputDone when in
// was closed and the decoder drained.
func attachDecoder(ctx context.Context, io *transcode.Pipes, in <-chan *media.Unit, video bool, w unitWriter, read func() error) error {
	var inputDone atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer io.Stdin.Close()
		waitKey := video
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-in:
				if !ok {
					inputDone.Store(true)
					return
				}
				if waitKey && !u.Key {
					continue
				}
				waitKey = false
				if err := w.write(u); err != nil {
					return
				}
			}
		}
	})
	// read ends at the decoder's EOF: after the input ended, or when the
	// Process stops it (SIGINT, then SIGKILL), so stdout is never closed
	// under a decoder still writing.
	read()
	io.Stdin.Close() // unblocks a writer stuck on a dead decoder
	wg.Wait()
	if inputDone.Load() {
		return transcode.ErrInputDone
	}
	return nil
}

func logRunErr(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error("compose process failed", "process", what, "err", err)
	}
}

// niceBin runs a command at a lower priority (coreutils; it execs the
// command in place, so the process, its group and signals are the same).
const niceBin = "/usr/bin/nice"

// decoderPath and decoderArgs run decoders through nice when configured
// and available.
func decoderPath(o *Options) string {
	if useNice(o) {
		return niceBin
	}
	return o.Transcode.FFmpeg
}

func decoderArgs(o *Options, args []string) []string {
	if useNice(o) {
		return append([]string{"-n", strconv.Itoa(o.Compose.DecoderNice), o.Transcode.FFmpeg}, args...)
	}
	return args
}

func useNice(o *Options) bool {
	if o.Compose.DecoderNice <= 0 {
		return false
	}
	_, err := os.Stat(niceBin)
	return err == nil
}

func videoDecoderArgs(t media.Track, hint layout.Tile, threads int) []string {
	w, h := max(2, hint.W), max(2, hint.H)
	scale := fmt.Sprintf("scale=%d:%d", w, h)
	switch hint.Fill {
	case layout.Cover:
		scale += ":force_original_aspect_ratio=increase:force_divisible_by=2"
	case layout.Contain:
		scale += ":force_original_aspect_ratio=decrease:force_divisible_by=2"
	}
	format := "h264"
	if t.Codec == media.VP8 {
		format = "ivf"
	}
	return []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-threads", strconv.Itoa(max(1, threads)), "-probesize", "32", "-analyzeduration", "0",
		"-fflags", "nobuffer", "-flags", "low_delay",
		"-f", format, "-i", "pipe:0",
		"-an", "-vf", scale, "-fps_mode", "passthrough", "-pix_fmt", "yuv420p",
		"-f", "yuv4mpegpipe", "-flush_packets", "1", "pipe:1"}
}

func audioDecoderArgs() []string {
	return []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-probesize", "32", "-analyzeduration", "0", "-fflags", "nobuffer",
		"-f", "mpegts", "-i", "pipe:0",
		"-vn", "-f", "s16le", "-ar", "48000", "-ac", "2", "-flush_packets", "1", "pipe:1"}
}
