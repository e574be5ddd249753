package compose

import (
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/config"
)

func compCfg() config.Compose {
	return config.Compose{IdleTimeout: 5 * time.Second, MaxCompositions: 4, X264Preset: "ultrafast", Background: "000000"}
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
