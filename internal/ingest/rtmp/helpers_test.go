package rtmp

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/testutil/ingesttest"
)

func TestMain(m *testing.M) {
	os.Exit(ingesttest.CheckLeaks(m.Run(), "internal/ingest/rtmp."))
}

// The shared test kit (internal/testutil/ingesttest) under this package's
// names.
type (
	fakeSink     = ingesttest.Sink
	fakeSession  = ingesttest.Session
	logBuffer    = ingesttest.LogBuffer
	ffmpegResult = ingesttest.FFmpegResult
)

var (
	newFakeSink       = ingesttest.NewSink
	waitSession       = ingesttest.WaitSession
	ffmpegPublishArgs = ingesttest.FFmpegPublishArgs
	runFFmpeg         = ingesttest.RunFFmpeg
	startFFmpeg       = ingesttest.StartFFmpeg
	waitFFmpeg        = ingesttest.WaitFFmpeg
	isExitError       = ingesttest.IsExitError
)

// checkUnits asserts per-track increasing DTS, at least minPerTrack units
// per track and key frames on every video track (GOP 30 over 3 s).
func checkUnits(t *testing.T, tracks []media.Track, units []*media.Unit, minPerTrack []int) {
	t.Helper()
	ingesttest.CheckUnits(t, tracks, units, minPerTrack, 2)
}

// startServer runs a server on 127.0.0.1:0 until the test ends and checks
// that Run returns after cancellation.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" && cfg.Listener == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	})
	return s
}
