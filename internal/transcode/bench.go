package transcode

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// BenchResult compares the CPU cost of our ladder with one hand-written
// ffmpeg command producing the same renditions from the same file.
type BenchResult struct {
	Input      string
	Media      time.Duration // duration of the input
	Renditions []string

	// Ours: the ladder fed through a hub, outputs parsed into units.
	Wall     time.Duration
	ChildCPU time.Duration // ffmpeg (rusage)
	GoCPU    time.Duration // this process: feeding, parsing, hubs
	Units    []int         // units published per transcoded rendition

	// Hand-written: ffmpeg reading the file, writing MPEG-TS to /dev/null.
	HandWall time.Duration
	HandCPU  time.Duration
	HandArgs []string

	// Rounds holds every round's ratio; the figures above are from the
	// median round.
	Rounds []float64
}

// Ratio is our CPU (child + Go) over the hand-written command's.
func (r BenchResult) Ratio() float64 {
	if r.HandCPU <= 0 {
		return 0
	}
	return float64(r.ChildCPU+r.GoCPU) / float64(r.HandCPU)
}

func (r BenchResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "input %s (%v), renditions %s\n", r.Input, r.Media.Round(time.Millisecond), strings.Join(r.Renditions, " "))
	fmt.Fprintf(&b, "ours:         wall %v  cpu %v (ffmpeg %v + go %v)  units %v\n", r.Wall.Round(time.Millisecond),
		(r.ChildCPU + r.GoCPU).Round(time.Millisecond), r.ChildCPU.Round(time.Millisecond), r.GoCPU.Round(time.Millisecond), r.Units)
	fmt.Fprintf(&b, "hand-written: wall %v  cpu %v\n", r.HandWall.Round(time.Millisecond), r.HandCPU.Round(time.Millisecond))
	fmt.Fprintf(&b, "cpu ratio ours/hand-written: %.3f (median of rounds %.3f)\n", r.Ratio(), r.Rounds)
	fmt.Fprintf(&b, "hand-written command: %s %s\n", "ffmpeg", strings.Join(r.HandArgs, " "))
	return b.String()
}

// GenerateBenchInput writes seconds of a synthetic height-p 30 fps
// H.264 (2 s GOP) + AAC MPEG-TS file to path with ffmpeg.
func GenerateBenchInput(ctx context.Context, cfg config.Transcode, path string, seconds, height int) error {
	w := height * 16 / 9 / 2 * 2
	out, err := exec.CommandContext(ctx, cfg.FFmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", w, height),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-ac", "2",
		"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "4M",
		"-g", "60", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
		"-f", "mpegts", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("generate bench input: %w: %s", err, out)
	}
	return nil
}

// BenchLadder runs the ladder of channelType over the MPEG-TS file input
// as fast as possible (the whole file is queued at once) and, at the same
// time, the hand-written equivalent, so that both see the same machine
// load; it does that rounds times and reports the median round. CPU is
// per process (rusage), so running both together does not mix their
// figures. It is what "stagecast bench ladder" runs.
func BenchLadder(ctx context.Context, cfg config.Transcode, input, channelType string, rounds int, log *slog.Logger) (BenchResult, error) {
	res := BenchResult{Input: input}
	f, err := os.Open(input)
	if err != nil {
		return res, fmt.Errorf("open bench input: %w", err)
	}
	tracks, units, err := DemuxTS(f)
	_ = f.Close()
	if err != nil {
		return res, err
	}
	var vt *media.Track
	for i := range tracks {
		if tracks[i].Kind == media.Video {
			vt = &tracks[i]
			break
		}
	}
	if vt == nil || len(units) == 0 {
		return res, errors.New("bench input has no video")
	}
	var first, last int64 = -1, 0
	for _, u := range units {
		if u.Track == vt.ID {
			if first < 0 {
				first = u.PTS
			}
			last = max(last, u.PTS)
		}
	}
	res.Media = media.Duration(last-first, vt.ClockRate)
	fps := 30.0
	if frames := countVideo(units, vt.ID); res.Media > 0 {
		fps = float64(frames-1) / res.Media.Seconds()
	}
	plan, err := Plan(channelType, "", Source{Width: vt.Width, Height: vt.Height, FPS: fps, HasVideo: true})
	if err != nil {
		return res, err
	}
	for _, r := range plan {
		res.Renditions = append(res.Renditions, r.Name)
	}
	var all []BenchResult
	for range max(rounds, 1) {
		r := res
		var wg sync.WaitGroup
		var handErr error
		wg.Go(func() { handErr = benchHand(ctx, cfg, input, plan, &r) })
		oursErr := benchOurs(ctx, cfg, tracks, units, plan, &r, log)
		wg.Wait()
		if err := errors.Join(oursErr, handErr); err != nil {
			return res, err
		}
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b BenchResult) int { return cmp.Compare(a.Ratio(), b.Ratio()) })
	med := all[len(all)/2]
	for _, r := range all {
		med.Rounds = append(med.Rounds, r.Ratio())
	}
	return med, nil
}

func countVideo(units []*media.Unit, id int) int {
	n := 0
	for _, u := range units {
		if u.Track == id {
			n++
		}
	}
	return n
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchOurs(ctx context.Context, cfg config.Transcode, tracks []media.Track, units []*media.Unit, plan []Rendition, res *BenchResult, log *slog.Logger) error {
	src := stream.NewHub(tracks, nil)
	l, err := NewLadder(cfg, src, plan, log, WithSourceQueue(len(units)+1))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	startCPU, start := selfCPU(), time.Now()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = l.Run(ctx) })
	for src.Readers() == 0 {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	for _, u := range units {
		src.Write(u)
	}
	src.Close()
	// Drain every rendition like a packager would.
	select {
	case <-l.Ready():
	case <-ctx.Done():
	}
	counts := make([]int, 0, len(plan))
	var mu sync.Mutex
	var rwg sync.WaitGroup
	for i, r := range plan {
		if r.Passthrough {
			continue
		}
		h := l.Hub(i)
		if h == nil {
			continue
		}
		rd := h.NewReader("bench", len(units)+1)
		k := len(counts)
		counts = append(counts, 0)
		rwg.Go(func() {
			n := 0
			for range rd.C() {
				n++
			}
			mu.Lock()
			counts[k] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	rwg.Wait()
	res.Wall = time.Since(start)
	res.GoCPU = selfCPU() - startCPU
	res.ChildCPU = l.Process().ChildCPU()
	res.Units = counts
	return runErr
}

// handArgs is the hand-written command: the same renditions with the
// usual options, from the file, to /dev/null.
func handArgs(cfg config.Transcode, input string, plan []Rendition) []string {
	enc := Transcoded(plan)
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", "-i", input}
	var fc strings.Builder
	fmt.Fprintf(&fc, "[0:v]split=%d", len(enc))
	for i := range enc {
		fmt.Fprintf(&fc, "[in%d]", i)
	}
	for i, r := range enc {
		fmt.Fprintf(&fc, ";[in%d]scale=%d:%d[out%d]", i, r.Width, r.Height, i)
	}
	args = append(args, "-filter_complex", fc.String())
	for i, r := range enc {
		args = append(args, "-map", fmt.Sprintf("[out%d]", i), "-map", "0:a",
			"-c:v", "libx264", "-preset", cfg.X264Preset, "-tune", "zerolatency",
			"-b:v", strconv.Itoa(r.VideoBitrate), "-maxrate", strconv.Itoa(r.VideoBitrate),
			"-bufsize", strconv.Itoa(r.VideoBitrate), "-g", strconv.Itoa(2*r.FPS))
		if r.AudioBitrate > 0 {
			args = append(args, "-c:a", "aac", "-b:a", strconv.Itoa(r.AudioBitrate))
		} else {
			args = append(args, "-c:a", "copy")
		}
		args = append(args, "-f", "mpegts", os.DevNull)
	}
	return args
}

func benchHand(ctx context.Context, cfg config.Transcode, input string, plan []Rendition, res *BenchResult) error {
	res.HandArgs = handArgs(cfg, input, plan)
	cmd := exec.CommandContext(ctx, cfg.FFmpeg, res.HandArgs...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	res.HandWall = time.Since(start)
	if err != nil {
		return fmt.Errorf("hand-written ffmpeg: %w: %s", err, out)
	}
	res.HandCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return nil
}
