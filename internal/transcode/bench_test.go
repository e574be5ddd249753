package transcode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkLadderStandard compares the STANDARD ladder's CPU (ffmpeg
// rusage + our process) with a hand-written ffmpeg command over the same
// file. STAGECAST_BENCH_HEIGHT (720 or 1080) and STAGECAST_BENCH_SECONDS
// (default 30) choose the synthetic input, STAGECAST_BENCH_ROUNDS (default
// 3) how many concurrent rounds the median is taken from.
//
//	go test -run XXX -bench LadderStandard -benchtime 1x ./internal/transcode/
func BenchmarkLadderStandard(b *testing.B) {
	needFFmpeg(b)
	height, seconds, rounds := 720, 30, 3
	if v, err := strconv.Atoi(os.Getenv("STAGECAST_BENCH_HEIGHT")); err == nil {
		height = v
	}
	if v, err := strconv.Atoi(os.Getenv("STAGECAST_BENCH_SECONDS")); err == nil {
		seconds = v
	}
	if v, err := strconv.Atoi(os.Getenv("STAGECAST_BENCH_ROUNDS")); err == nil {
		rounds = v
	}
	cfg := testCfg()
	input := filepath.Join(os.TempDir(), fmt.Sprintf("stagecast-bench-%dp-%ds.ts", height, seconds))
	if _, err := os.Stat(input); err != nil {
		if err := GenerateBenchInput(context.Background(), cfg, input+".tmp", seconds, height); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(input+".tmp", input); err != nil {
			b.Fatal(err)
		}
	}
	var res BenchResult
	for b.Loop() {
		var err error
		if res, err = BenchLadder(context.Background(), cfg, input, TypeStandard, rounds, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("\n%s", res)
	b.ReportMetric((res.ChildCPU + res.GoCPU).Seconds(), "ours-cpu-s")
	b.ReportMetric(res.GoCPU.Seconds(), "go-cpu-s")
	b.ReportMetric(res.HandCPU.Seconds(), "hand-cpu-s")
	b.ReportMetric(res.Ratio(), "cpu-ratio")
}
