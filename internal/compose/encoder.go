package compose

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/compose/mix"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/transcode"
)

// Encoder input queues: a few frames of video, a second of audio. When
// they are full the encoder is behind; the clocks then count what they
// could not queue and the writers repeat the last frame (video) or write
// silence (audio) so that both inputs keep their timestamps.
const (
	encoderVideoQueue = 4
	encoderAudioQueue = 50
)

// maxCatchUp bounds how much late output the clocks make up for when the
// encoder stalled (a restart, a CPU-starved machine): beyond it time is
// skipped (in both video and audio, so they stay in sync) instead of
// growing the latency.
const maxCatchUp = 2 * time.Second

// videoFrame is one rendered canvas to write n times.
type videoFrame struct {
	buf *[]byte
	n   int64
	// drawn is how many tiles show a picture.
	drawn int
}

// maxDrawn bounds the per-count first-frame table (IVS: 12 publishers).
const maxDrawn = 16

// audioChunk is silence frames of silence followed by pcm.
type audioChunk struct {
	silence int64
	pcm     []byte
}

// encoder is one ffmpeg encoding the canvas and the mix for one encoder
// configuration.
type encoder struct {
	out      Output
	canvasW  int
	canvasH  int
	fps      float64
	preset   string
	log      *slog.Logger
	proc     *transcode.Process
	pool     *sync.Pool
	cpu      *processCPU
	video    chan videoFrame
	audio    chan audioChunk
	deliver  func(u *media.Unit)
	pendingV int64 // owned by the video clock
	pendingA int64 // owned by the audio clock

	// tracks is set once the first key frame was demuxed.
	tracks atomic.Pointer[[]media.Track]
	// lastPTS (90 kHz) is the last video PTS delivered, for restarts.
	lastPTS atomic.Int64
	units   atomic.Uint64
	// written counts frames written to the encoder: the output frame
	// index. firstDrawn[k] is the first output frame whose canvas showed
	// k pictures (-1 before).
	written    atomic.Int64
	firstDrawn [maxDrawn + 1]atomic.Int64
	behind     atomic.Uint64 // frames the clocks could not queue
	skipped    atomic.Uint64 // late frames dropped beyond maxCatchUp
	restarts   atomic.Int64
}

func (e *encoder) args() []string {
	v := e.out.Video
	fps := strconv.FormatFloat(e.fps, 'f', -1, 64)
	gop := strconv.Itoa(max(1, int(2*v.Framerate+0.5)))
	a := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", e.canvasW, e.canvasH),
		"-framerate", fps, "-thread_queue_size", "64", "-i", "pipe:3",
		"-f", "s16le", "-ar", "48000", "-ac", "2", "-thread_queue_size", "256", "-i", "pipe:4",
		"-map", "0:v", "-map", "1:a"}
	if v.Width != e.canvasW || v.Height != e.canvasH {
		a = append(a, "-vf", fmt.Sprintf("scale=%d:%d", v.Width, v.Height))
	}
	if v.Framerate != e.fps {
		a = append(a, "-r", strconv.FormatFloat(v.Framerate, 'f', -1, 64))
	}
	br := strconv.Itoa(v.Bitrate)
	a = append(a, "-c:v", "libx264", "-preset", e.preset, "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-b:v", br, "-maxrate", br, "-bufsize", strconv.Itoa(2*v.Bitrate),
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1", "pipe:1")
	return a
}

func (e *encoder) start(o *Options) {
	e.video = make(chan videoFrame, encoderVideoQueue)
	e.audio = make(chan audioChunk, encoderAudioQueue)
	e.lastPTS.Store(-1)
	for i := range e.firstDrawn {
		e.firstDrawn[i].Store(-1)
	}
	e.proc = transcode.NewProcess(o.Transcode, transcode.Spec{
		Name: "compose-encoder", Path: o.Transcode.FFmpeg, Args: e.args(),
		Stdout: true, Pipes: []transcode.PipeDir{transcode.ChildReads, transcode.ChildReads},
		Attach: e.attach, OnExit: e.cpu.onExit(kindEncoder),
	}, e.log)
}

// pushVideo queues buf (a rendered canvas) to be written n times; it never
// blocks.
func (e *encoder) pushVideo(canvasBytes []byte, n int64, drawn int) {
	bp := e.pool.Get().(*[]byte)
	*bp = append((*bp)[:0], canvasBytes...)
	total := n + e.pendingV
	if limit := int64(maxCatchUp.Seconds() * e.fps); total > limit {
		e.skipped.Add(uint64(total - limit))
		total = limit
	}
	select {
	case e.video <- videoFrame{buf: bp, n: total, drawn: min(drawn, maxDrawn)}:
		e.pendingV = 0
	default:
		e.pendingV = total
		e.behind.Add(uint64(n))
		e.pool.Put(bp)
	}
}

// pushAudio queues one mixed frame; it never blocks.
func (e *encoder) pushAudio(pcm []byte) {
	e.pendingA = min(e.pendingA, int64(maxCatchUp/mix.FrameDuration))
	select {
	case e.audio <- audioChunk{silence: e.pendingA, pcm: pcm}:
		e.pendingA = 0
	default:
		e.pendingA++
	}
}

func (e *encoder) attach(ctx context.Context, io *transcode.Pipes) error {
	if io.Incarnation > 1 {
		e.restarts.Add(1)
	}
	vout, aout := io.Extra[0], io.Extra[1]
	growPipe(vout, canvasPipeSize)
	var wg sync.WaitGroup
	demuxDone := make(chan struct{})
	wg.Go(func() { // a stop ends the inputs; the encoder drains and exits
		select {
		case <-ctx.Done():
			vout.Close()
			aout.Close()
		case <-demuxDone:
		}
	})
	wg.Go(func() {
		defer vout.Close()
		var last *[]byte
		defer func() {
			if last != nil {
				e.pool.Put(last)
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case f := <-e.video:
				if last != nil {
					e.pool.Put(last)
				}
				last = f.buf
				e.firstDrawn[f.drawn].CompareAndSwap(-1, e.written.Load())
				for range f.n {
					e.written.Add(1)
					if _, err := vout.Write(*f.buf); err != nil {
						return
					}
				}
			}
		}
	})
	wg.Go(func() {
		defer aout.Close()
		silence := make([]byte, mix.FrameBytes)
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-e.audio:
				for range c.silence {
					if _, err := aout.Write(silence); err != nil {
						return
					}
				}
				if _, err := aout.Write(c.pcm); err != nil {
					return
				}
			}
		}
	})
	err := e.demux(io)
	close(demuxDone)
	vout.Close()
	aout.Close()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// demux reads the encoder's MPEG-TS and delivers units until it ends.
func (e *encoder) demux(io *transcode.Pipes) error {
	r := &mpegts.Reader{R: bufio.NewReaderSize(io.Stdout, 64<<10)}
	if err := r.Initialize(); err != nil {
		return fmt.Errorf("read encoder output: %w", err)
	}
	var vt, at *mpegts.Track
	for _, t := range r.Tracks() {
		switch t.Codec.(type) {
		case *codecs.H264:
			vt = t
		case *codecs.MPEG4Audio:
			at = t
		}
	}
	if vt == nil {
		return errors.New("encoder output has no h264 track")
	}
	// Timestamps continue across restarts: the first PTS of this
	// incarnation maps to one frame after the last one delivered.
	base := int64(-1)
	offset := int64(0)
	if last := e.lastPTS.Load(); last >= 0 {
		offset = last + int64(90000/e.out.Video.Framerate)
	}
	disc := e.lastPTS.Load() >= 0
	var aacConfig []byte
	if at != nil {
		aacConfig, _ = at.Codec.(*codecs.MPEG4Audio).Config.Marshal()
	}
	norm := func(pts int64) int64 {
		if base < 0 {
			base = pts
		}
		return pts - base + offset
	}
	r.OnDecodeError(func(err error) { e.log.Debug("encoder output decode error", "err", err) })
	r.OnDataH264(vt, func(pts, dts int64, au [][]byte) error {
		key := false
		var sps, pps []byte
		for _, n := range au {
			if len(n) == 0 {
				continue
			}
			switch n[0] & 0x1f {
			case 5:
				key = true
			case 7:
				sps = n
			case 8:
				pps = n
			}
		}
		if e.tracks.Load() == nil {
			if !key || sps == nil || pps == nil {
				return nil
			}
			tr := []media.Track{{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000,
				SPS: sps, PPS: pps, Width: e.out.Video.Width, Height: e.out.Video.Height}}
			if at != nil {
				tr = append(tr, media.Track{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: mix.SampleRate,
					AACConfig: aacConfig, Channels: mix.Channels, SampleRate: mix.SampleRate})
			}
			e.tracks.Store(&tr)
		}
		p := norm(pts)
		u := &media.Unit{Track: 0, PTS: p, DTS: norm(dts), Key: key, NALUs: au, Discontinuity: disc}
		disc = false
		e.lastPTS.Store(p)
		e.units.Add(1)
		e.deliver(u)
		return nil
	})
	if at != nil {
		r.OnDataMPEG4Audio(at, func(pts int64, aus [][]byte) error {
			if e.tracks.Load() == nil {
				return nil
			}
			p := norm(pts) * mix.SampleRate / 90000
			if p < 0 {
				return nil
			}
			for i, au := range aus {
				e.units.Add(1)
				e.deliver(&media.Unit{Track: 1, PTS: p + int64(i)*1024, DTS: p + int64(i)*1024, Payload: au})
			}
			return nil
		})
	}
	for {
		if err := r.Read(); err != nil {
			return err
		}
	}
}

// canvasPipeSize is the raw video pipe's buffer: about a 720p frame, so a
// frame is written in one or two system calls instead of 21 (the default
// 64 KiB); Linux caps it at /proc/sys/fs/pipe-max-size (1 MiB default).
const canvasPipeSize = 1 << 20

// fSetPipeSz is Linux's F_SETPIPE_SZ fcntl.
const fSetPipeSz = 1031

// growPipe enlarges a pipe's kernel buffer; failures are ignored (the
// default size works, only with more system calls).
func growPipe(f interface {
	SyscallConn() (syscall.RawConn, error)
}, size int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(size))
	})
}
