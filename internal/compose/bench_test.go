package compose

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/stream"
)

// Benchmark knobs (environment): COMPOSE_BENCH_SECONDS (default 15) of
// composition per case, COMPOSE_BENCH_SOURCE (default 640x360) publisher
// size, COMPOSE_BENCH_PRESET (default veryfast, the config default).
func benchEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// benchCounts is COMPOSE_BENCH_N (comma-separated), default 2,4,12.
func benchCounts() []int {
	var out []int
	for _, f := range strings.Split(benchEnv("COMPOSE_BENCH_N", "2,4,12"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n >= 2 {
			out = append(out, n)
		}
	}
	return out
}

func cpuTimes() (self, children time.Duration) {
	var s, c syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	tv := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return tv(s), tv(c)
}

// childrenCPU sums user+system time of this process's running children
// from /proc (rusage covers only children that have been waited for).
func childrenCPU() time.Duration {
	const clockTicks = 100 // USER_HZ on Linux
	me := os.Getpid()
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces).
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != me {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

func benchClip(b *testing.B) (*clip, string, int, int) {
	size := benchEnv("COMPOSE_BENCH_SOURCE", "640x360")
	var w, h int
	if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "src.ts")
	out, err := exec.Command("ffmpeg", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=s=%dx%d:r=30", w, h),
		"-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
		"-t", "10", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "1000k", "-g", "60", "-bf", "0",
		"-pix_fmt", "yuv420p", "-c:a", "libopus", "-ac", "2", "-b:a", "64k", "-f", "mpegts", path).CombinedOutput()
	if err != nil {
		b.Fatalf("ffmpeg: %v %s", err, out)
	}
	return loadClip(b, path, w, h, 10), path, w, h
}

// BenchmarkCompose runs a live 1280x720 30 fps composition of n
// publishers for COMPOSE_BENCH_SECONDS and reports CPU (ours and the
// ffmpeg children's, from rusage) and the realtime factor (output frames
// per second over the steady state / 30).
func BenchmarkCompose(b *testing.B) {
	needFFmpeg(b)
	secs, _ := strconv.Atoi(benchEnv("COMPOSE_BENCH_SECONDS", "15"))
	src, _, _, _ := benchClip(b)
	for _, n := range benchCounts() {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			for b.Loop() {
				runComposeBench(b, src, n, time.Duration(secs)*time.Second)
			}
		})
	}
}

func runComposeBench(b *testing.B, src *clip, n int, d time.Duration) {
	stages := newFakeStages()
	hubs := map[string]*stream.Hub{}
	var pubs []Publisher
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		hubs[id] = stream.NewHub(src.tracks, nil)
		pubs = append(pubs, Publisher{ParticipantID: id, Joined: int64(i)})
	}
	stages.set(pubs, hubs)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, h := range hubs {
		wg.Go(func() { src.play(ctx, h) })
	}
	cfg := compCfg()
	cfg.X264Preset = benchEnv("COMPOSE_BENCH_PRESET", "veryfast")
	cfg.DecoderNice, _ = strconv.Atoi(benchEnv("COMPOSE_BENCH_NICE", "5"))
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("COMPOSE_BENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	comp := New(Options{Log: log, Stages: stages, Compose: cfg, Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 5 * time.Second}})
	wg.Go(func() { comp.Run(ctx) })
	dest := &memDest{}
	spec := Spec{ARN: "arn:bench", StageARN: "arn:stage", Layout: layout.FromRTAPI(nil),
		Outputs: []Output{{Video: DefaultVideo, Destinations: []DestinationSpec{{ID: "d", Dest: dest}}}}}
	t0 := time.Now()
	if err := comp.StartSpec(ctx, spec); err != nil {
		b.Fatal(err)
	}
	videoUnits := func() int {
		dest.mu.Lock()
		defer dest.mu.Unlock()
		k := 0
		for _, u := range dest.units {
			if u.Track == 0 {
				k++
			}
		}
		return k
	}
	// Startup: until every publisher's first picture was decoded (process
	// start-up and the first key frame); then one more second.
	for {
		st, _ := comp.Stats("arn:bench")
		all := len(st.Decoded) == n
		for _, d := range st.Decoded {
			all = all && d > 0
		}
		if all || time.Since(t0) > time.Minute {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	startup := time.Since(t0)
	time.Sleep(time.Second)
	// Steady state: CPU of this process (rusage) and of its ffmpeg
	// children (/proc, they are still running) over d.
	self0, _ := cpuTimes()
	child0 := childrenCPU()
	n1, t1 := videoUnits(), time.Now()
	time.Sleep(d)
	n2, t2 := videoUnits(), time.Now()
	self1, _ := cpuTimes()
	child1 := childrenCPU()
	st, _ := comp.Stats("arn:bench")
	if err := comp.Stop(ctx, "arn:bench"); err != nil {
		b.Fatal(err)
	}
	wall := t2.Sub(t1)
	rt := float64(n2-n1) / wall.Seconds() / 30
	goCores := (self1 - self0).Seconds() / wall.Seconds()
	childCores := (child1 - child0).Seconds() / wall.Seconds()
	b.ReportMetric(startup.Seconds(), "startup-s")
	b.ReportMetric(rt, "realtime")
	b.ReportMetric(goCores, "go-cores")
	b.ReportMetric(childCores, "ffmpeg-cores")
	b.ReportMetric(goCores+childCores, "cores")
	b.ReportMetric(float64(st.RenderTime.Microseconds())/float64(max(1, st.Frames)), "render-us/frame")
	// Lag: how far the encoded output is behind the clock at the end
	// (bounded = keeping up).
	b.ReportMetric(float64(st.Frames-int64(n2))/30, "lag-s")
	pc := comp.CPU()
	total := time.Since(t0).Seconds()
	b.Logf("n=%d whole run (%.1fs, with start-up) process CPU per second: encoder %.2f, video decoders %.2f, audio decoders %.2f", n, total,
		pc.Encoders.Seconds()/total, pc.VideoDecoders.Seconds()/total, pc.AudioDecoders.Seconds()/total)
	b.Logf("n=%d wall=%s realtime=%.3f cores=%.2f (go %.2f, ffmpeg %.2f) frames=%d behind=%d decoded=%v",
		n, wall.Round(time.Millisecond), rt, goCores+childCores, goCores, childCores, st.Frames, st.Behind, st.Decoded)
}

// BenchmarkXstack is the lower bound: one ffmpeg decoding n copies of the
// source from a file, scaling them into the same grid with xstack, mixing
// audio with amix and encoding like the compositor, as fast as it can.
func BenchmarkXstack(b *testing.B) {
	needFFmpeg(b)
	secs, _ := strconv.Atoi(benchEnv("COMPOSE_BENCH_SECONDS", "15"))
	_, path, _, _ := benchClip(b)
	for _, n := range benchCounts() {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			args := xstackArgs(path, n, secs, benchEnv("COMPOSE_BENCH_PRESET", "veryfast"))
			b.Logf("ffmpeg %s", strings.Join(args, " "))
			for b.Loop() {
				t0 := time.Now()
				cmd := exec.Command("ffmpeg", args...)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("xstack: %v %s", err, out)
				}
				wall := time.Since(t0)
				cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				b.ReportMetric(float64(secs)/wall.Seconds(), "realtime")
				b.ReportMetric(cpu.Seconds()/float64(secs), "cpu-s/media-s")
			}
		})
	}
}

func xstackArgs(path string, n, secs int, preset string) []string {
	var ps []layout.Participant
	for i := range n {
		ps = append(ps, layout.Participant{ID: strconv.Itoa(i), Joined: int64(i)})
	}
	tiles := layout.Compute(layout.FromRTAPI(nil), 1280, 720, ps)
	minX, minY := 1280, 720
	for _, t := range tiles {
		minX, minY = min(minX, t.X), min(minY, t.Y)
	}
	args := []string{"-v", "error", "-y"}
	for range n {
		args = append(args, "-stream_loop", "-1", "-i", path)
	}
	var f, pos []string
	for i, t := range tiles {
		f = append(f, fmt.Sprintf("[%d:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d[v%d]", i, t.W, t.H, t.W, t.H, i))
		pos = append(pos, fmt.Sprintf("%d_%d", t.X-minX, t.Y-minY))
	}
	var vin, ain string
	for i := range n {
		vin += fmt.Sprintf("[v%d]", i)
		ain += fmt.Sprintf("[%d:a]", i)
	}
	f = append(f, fmt.Sprintf("%sxstack=inputs=%d:layout=%s:fill=black,pad=1280:720:%d:%d[v]", vin, n, strings.Join(pos, "|"), minX, minY),
		fmt.Sprintf("%samix=inputs=%d[a]", ain, n))
	return append(args, "-filter_complex", strings.Join(f, ";"), "-map", "[v]", "-map", "[a]", "-t", strconv.Itoa(secs),
		"-c:v", "libx264", "-preset", preset, "-tune", "zerolatency", "-b:v", "2500000", "-maxrate", "2500000", "-bufsize", "5000000",
		"-g", "60", "-bf", "0", "-r", "30", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", os.DevNull)
}
