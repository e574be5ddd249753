package compose

import (
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/config"
)

func compCfg() config.Compose {
	return config.Compose{IdleTimeout: 5 * time.Second, MaxCompositions: 4, X264Preset: "ultrafast", Background: "000000", DecoderNice: 5}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(w, canvasPipeSize)
	var size uintptr
	rc, _ := w.SyscallConn()
	_ = rc.Control(func(fd uintptr) {
		size, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, 1032 /* F_GETPIPE_SZ */, 0)
	})
	if size < 1<<20 {
		t.Fatalf("pipe size %d", size)
	}
}

func TestDecoderNice(t *testing.T) {
	o := &Options{Transcode: config.Transcode{FFmpeg: "ffmpeg"}, Compose: config.Compose{DecoderNice: 5}}
	args := decoderArgs(o, []string{"-i", "pipe:0"})
	if _, err := os.Stat(niceBin); err != nil {
		t.Skip("no nice binary")
	}
	if decoderPath(o) != niceBin || strings.Join(args, " ") != "-n 5 ffmpeg -i pipe:0" {
		t.Fatalf("%s %v", decoderPath(o), args)
	}
	o.Compose.DecoderNice = 0
	if decoderPath(o) != "ffmpeg" || len(decoderArgs(o, []string{"-i", "pipe:0"})) != 2 {
		t.Fatal("nice without decoder_nice")
	}
}
