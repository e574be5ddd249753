package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// keyintSeconds bounds the GOP of a rendition when the source sends no key
// frame for that long; normally key frames are forced where the source has
// them (-force_key_frames source), which aligns every rendition with the
// source and with each other.
const keyintSeconds = 10

// LadderOption tunes a Ladder.
type LadderOption func(*Ladder)

// WithSourceQueue sets the queue length of the ladder's reader on the
// source hub (stream.DefaultQueue by default). Benchmarks that write a
// whole file at once use a queue that holds it.
func WithSourceQueue(n int) LadderOption { return func(l *Ladder) { l.queue = n } }

// Ladder encodes a source into the transcoded renditions of a plan with
// one ffmpeg process and publishes each rendition on its own hub.
type Ladder struct {
	cfg    config.Transcode
	source *stream.Hub
	plan   []Rendition
	log    *slog.Logger
	queue  int

	// enc[i] is the index in plan of the i-th transcoded rendition, whose
	// output is on the child's fd 3+i.
	enc  []int
	outs []*rendOut
	proc *Process

	readyOnce sync.Once
	ready     chan struct{}
	pending   atomic.Int32 // transcoded renditions without a hub yet

	// reader is the ladder's reader on the source; set by Run before the
	// process starts, read by Attach.
	reader *stream.Reader
	// carry is the unit that started a new source timeline; the next
	// incarnation begins with it. Owned by feed (incarnations are
	// sequential).
	carry *media.Unit
}

// rendOut is the output side of one transcoded rendition.
type rendOut struct {
	r   Rendition
	hub atomic.Pointer[stream.Hub]
	// Owned by the reader goroutine of the current incarnation (one at a
	// time; incarnations are sequential).
	audioRate int
	written   bool // units were published (a later incarnation is a discontinuity)
	disc      map[int]bool
}

// NewLadder prepares the ladder for plan (from Plan) over source. Nothing
// runs until Run.
func NewLadder(cfg config.Transcode, source *stream.Hub, plan []Rendition, log *slog.Logger, opts ...LadderOption) (*Ladder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Ladder{cfg: cfg, source: source, plan: plan, log: log.With("component", "transcode"), ready: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	for i, r := range plan {
		if r.Passthrough {
			continue
		}
		if r.Width <= 0 || r.Height <= 0 || r.FPS <= 0 || r.VideoBitrate <= 0 {
			return nil, fmt.Errorf("rendition %q: size, fps and bitrate must be positive", r.Name)
		}
		l.enc = append(l.enc, i)
		l.outs = append(l.outs, &rendOut{r: r})
	}
	if len(l.enc) > 0 {
		// The same check attach makes per incarnation, once up front: a
		// source that cannot be muxed would otherwise restart forever.
		if _, err := newTSInput(source.Tracks(), io.Discard, false); err != nil {
			return nil, err
		}
	}
	l.pending.Store(int32(len(l.enc)))
	if len(l.enc) == 0 {
		l.readyOnce.Do(func() { close(l.ready) })
	}
	pipes := make([]PipeDir, len(l.enc))
	for i := range pipes {
		pipes[i] = ChildWrites
	}
	l.proc = NewProcess(cfg, Spec{
		Name:   "ladder",
		Path:   cfg.FFmpeg,
		Args:   l.Args(),
		Stdin:  true,
		Pipes:  pipes,
		Attach: l.attach,
	}, l.log)
	return l, nil
}

// Renditions returns the plan.
func (l *Ladder) Renditions() []Rendition { return l.plan }

// Ready is closed once every rendition has a hub, or when Run returned
// (then a Hub that never got output stays nil).
func (l *Ladder) Ready() <-chan struct{} { return l.ready }

// Hub returns the hub of plan[i]: the source hub for a passthrough
// rendition; for a transcoded one, its own hub once the encoder produced
// its first key frame (nil before Ready). The ladder closes its own hubs
// when Run returns; the source hub belongs to its publisher.
func (l *Ladder) Hub(i int) *stream.Hub {
	if i < 0 || i >= len(l.plan) {
		return nil
	}
	if l.plan[i].Passthrough {
		return l.source
	}
	for k, p := range l.enc {
		if p == i {
			return l.outs[k].hub.Load()
		}
	}
	return nil
}

// Process is the supervised encoder (for tests and operators).
func (l *Ladder) Process() *Process { return l.proc }

// Args returns the ffmpeg arguments of the ladder encoder.
func (l *Ladder) Args() []string {
	return ladderArgs(l.cfg, l.plan, l.sourceHasAudio())
}

func (l *Ladder) sourceHasAudio() bool {
	for _, t := range l.source.Tracks() {
		if t.Kind == media.Audio && (t.Codec == media.AAC || t.Codec == media.Opus) {
			return true
		}
	}
	return false
}

// ladderArgs builds the ffmpeg command line: MPEG-TS on stdin, decoded
// once, split and scaled per rendition, each encoded with libx264 (low
// latency, key frames where the source has them) and muxed as MPEG-TS to
// fd 3+i, timestamps kept (-copyts, no mux delay).
func ladderArgs(cfg config.Transcode, plan []Rendition, audio bool) []string {
	enc := Transcoded(plan)
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-analyzeduration", "500000", "-probesize", "1000000",
		"-copyts", "-f", "mpegts", "-i", "pipe:0"}
	if len(enc) == 0 {
		return args
	}
	var fc strings.Builder
	if len(enc) == 1 {
		fc.WriteString("[0:v:0]null[s0]")
	} else {
		fmt.Fprintf(&fc, "[0:v:0]split=%d", len(enc))
		for i := range enc {
			fmt.Fprintf(&fc, "[s%d]", i)
		}
	}
	for i, r := range enc {
		fmt.Fprintf(&fc, ";[s%d]scale=%d:%d", i, r.Width, r.Height)
		fmt.Fprintf(&fc, "[v%d]", i)
	}
	args = append(args, "-filter_complex", fc.String())
	for i, r := range enc {
		gop := strconv.Itoa(r.FPS * keyintSeconds)
		br := strconv.Itoa(r.VideoBitrate)
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		if audio {
			args = append(args, "-map", "0:a:0?")
		}
		args = append(args,
			"-c:v", "libx264", "-preset", cfg.X264Preset, "-tune", "zerolatency",
			"-profile:v", r.Profile, "-level:v", r.Level, "-pix_fmt", "yuv420p",
			"-fpsmax", strconv.Itoa(r.FPS),
			"-b:v", br, "-maxrate", br, "-bufsize", br,
			"-g", gop, "-keyint_min", "1", "-sc_threshold", "0",
			"-force_key_frames", "source", "-forced-idr", "1")
		if cfg.Threads > 0 {
			args = append(args, "-threads", strconv.Itoa(cfg.Threads))
		}
		if audio {
			if r.AudioBitrate > 0 {
				args = append(args, "-c:a", "aac", "-b:a", strconv.Itoa(r.AudioBitrate))
			} else {
				args = append(args, "-c:a", "copy")
			}
		}
		args = append(args, "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0",
			"-flush_packets", "1", fmt.Sprintf("pipe:%d", 3+i))
	}
	return args
}

// Run feeds the source to the encoder and publishes the renditions until
// ctx is done or the source hub closes (then the encoder is drained). It
// restarts the encoder when it dies (see Process.Run) and closes the
// ladder's hubs before returning. A ladder without transcoded renditions
// just waits for ctx. Run is called once.
func (l *Ladder) Run(ctx context.Context) error {
	defer l.readyOnce.Do(func() { close(l.ready) })
	defer l.closeHubs()
	if len(l.enc) == 0 {
		<-ctx.Done()
		return nil
	}
	l.reader = l.source.NewReader("ladder", l.queue)
	defer l.reader.Close()
	return l.proc.Run(ctx)
}

func (l *Ladder) closeHubs() {
	for _, o := range l.outs {
		if h := o.hub.Load(); h != nil {
			h.Close()
		}
	}
}

// attach runs once per encoder incarnation: it feeds stdin from the source
// reader and reads every rendition's output until the encoder exits.
func (l *Ladder) attach(ctx context.Context, p *Pipes) error {
	in, err := newTSInput(l.source.Tracks(), p.Stdin, false)
	if err != nil {
		return err
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	var wg sync.WaitGroup
	errs := make([]error, len(l.outs))
	for i, o := range l.outs {
		o.disc = nil
		if o.written {
			o.disc = map[int]bool{0: true, 1: true}
		}
		wg.Go(func() {
			errs[i] = l.readRendition(o, p.Extra[i], in)
			if errs[i] != nil {
				stopFeed()
				// Keep draining so the encoder is not blocked on this
				// output while it finishes.
				_, _ = io.Copy(io.Discard, p.Extra[i])
			}
		})
	}
	feedErr := l.feed(feedCtx, in, p.Stdin)
	_ = p.Stdin.Close()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return feedErr
}

// feed copies source units to the encoder until ctx is done (nil), the
// source ends (ErrInputDone), jumps to a new timeline (ErrRestart) or the
// pipe breaks.
func (l *Ladder) feed(ctx context.Context, in *tsInput, _ io.Writer) error {
	return feedUnits(ctx, in, l.reader.C(), &l.carry)
}

// feedUnits writes units from c to in, starting with *carry if set; a
// unit that starts a new timeline is left in *carry for the next
// incarnation.
func feedUnits(ctx context.Context, in *tsInput, c <-chan *media.Unit, carry **media.Unit) error {
	for {
		u := *carry
		*carry = nil
		if u == nil {
			var ok bool
			select {
			case <-ctx.Done():
				return nil
			case u, ok = <-c:
				if !ok {
					return ErrInputDone
				}
			}
		}
		if in.jumped(u) {
			*carry = u
			return ErrRestart
		}
		if err := in.write(u); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// readRendition reads one rendition's MPEG-TS output and publishes its
// units; it returns nil at EOF.
func (l *Ladder) readRendition(o *rendOut, r io.Reader, in *tsInput) error {
	tr := &mpegts.Reader{R: r}
	if err := tr.Initialize(); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		return fmt.Errorf("rendition %s: read mpeg-ts: %w", o.r.Name, err)
	}
	var video, audio *mpegts.Track
	var audioTrack media.Track
	for _, t := range tr.Tracks() {
		switch c := t.Codec.(type) {
		case *tscodecs.H264:
			video = t
		case *tscodecs.MPEG4Audio:
			if audio == nil {
				audio = t
				conf, err := c.Config.Marshal()
				if err != nil {
					return fmt.Errorf("rendition %s: audio config: %w", o.r.Name, err)
				}
				ch := int(c.Config.ChannelConfig)
				if ch == 7 {
					ch = 8
				}
				audioTrack = media.Track{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: c.Config.SampleRate,
					AACConfig: conf, Channels: ch, SampleRate: c.Config.SampleRate}
			}
		}
	}
	if video == nil {
		return fmt.Errorf("rendition %s: encoder output has no H.264 track", o.r.Name)
	}
	tr.OnDecodeError(func(err error) {
		l.log.Debug("rendition decode error", "rendition", o.r.Name, "err", err)
	})
	tr.OnDataH264(video, func(pts, dts int64, au [][]byte) error {
		au = stripAUD(au)
		if len(au) == 0 {
			return nil
		}
		key := h264.IsRandomAccess(au)
		hub := o.hub.Load()
		if hub == nil {
			if !key {
				return nil
			}
			hub = l.makeHub(o, au, audio != nil, audioTrack)
		}
		l.publish(o, hub, &media.Unit{Track: 0, PTS: in.fromTS(pts), DTS: in.fromTS(dts), Key: key, NALUs: au})
		return nil
	})
	if audio != nil {
		o.audioRate = audioTrack.SampleRate
		tr.OnDataMPEG4Audio(audio, func(pts int64, aus [][]byte) error {
			hub := o.hub.Load()
			if hub == nil || o.audioRate <= 0 {
				return nil
			}
			base := in.fromTS(pts) * int64(o.audioRate) / tsClock
			for i, au := range aus {
				l.publish(o, hub, &media.Unit{Track: 1, PTS: base + int64(i*1024), DTS: base + int64(i*1024), Key: true, Payload: au})
			}
			return nil
		})
	}
	for {
		if err := tr.Read(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("rendition %s: read mpeg-ts: %w", o.r.Name, err)
		}
	}
}

func (l *Ladder) publish(o *rendOut, hub *stream.Hub, u *media.Unit) {
	if o.disc[u.Track] {
		u.Discontinuity = true
		delete(o.disc, u.Track)
	}
	u.Arrival = time.Now()
	o.written = true
	hub.Write(u)
}

// makeHub creates a rendition's hub from its first key frame's parameter
// sets (its tracks are fixed from then on, across encoder restarts).
func (l *Ladder) makeHub(o *rendOut, au [][]byte, withAudio bool, audio media.Track) *stream.Hub {
	vt := media.Track{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: tsClock, Width: o.r.Width, Height: o.r.Height}
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			vt.SPS = append([]byte(nil), n...)
			var sps h264.SPS
			if err := sps.Unmarshal(n); err == nil {
				vt.Width, vt.Height = sps.Width(), sps.Height()
			}
		case h264.NALUTypePPS:
			vt.PPS = append([]byte(nil), n...)
		}
	}
	tracks := []media.Track{vt}
	if withAudio {
		tracks = append(tracks, audio)
	}
	hub := stream.NewHub(tracks, l.log.With("rendition", o.r.Name))
	o.hub.Store(hub)
	l.log.Info("rendition ready", "rendition", o.r.Name, "width", vt.Width, "height", vt.Height)
	if l.pending.Add(-1) == 0 {
		l.readyOnce.Do(func() { close(l.ready) })
	}
	return hub
}
