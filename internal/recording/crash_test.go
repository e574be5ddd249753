package recording

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/recording/objstore"
	"github.com/stagecast/stagecast/internal/stream"
)

// Environment of the child process of TestKilledMidStreamLeavesPlayableSegments.
const (
	childEnvDir   = "STAGECAST_RECORDING_CHILD_DIR"
	childEnvMedia = "STAGECAST_RECORDING_CHILD_MEDIA"
)

// TestRecorderChild is the process the crash test kills: it records a
// stream forever (looping the media) until it is killed. It does nothing
// in a normal test run.
func TestRecorderChild(t *testing.T) {
	dir := os.Getenv(childEnvDir)
	if dir == "" {
		t.Skip("only runs as the child of TestKilledMidStreamLeavesPlayableSegments")
	}
	tracks, units := demux(t, os.Getenv(childEnvMedia))
	hub := stream.NewHub(tracks, nil)
	m := NewManager(Config{Store: objstore.NewLocal(dir), SegmentDuration: time.Second}, nil, nil)
	if _, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-child",
		RecordingConfig: recordingConfig(0, false), Renditions: []Rendition{{Name: "240p30", Width: 320, Height: 240, Hub: hub}}}); err != nil {
		t.Fatal(err)
	}
	span := unitTime(tracks, units[len(units)-1]) - unitTime(tracks, units[0]) + time.Second/30
	for loop := 0; ; loop++ {
		feed(context.Background(), hub, units, 2, time.Duration(loop)*span)
	}
}

func TestKilledMidStreamLeavesPlayableSegments(t *testing.T) {
	t.Parallel()
	media := genTS(t, 320, 240, 4)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnvDir+"="+dir, childEnvMedia+"="+media)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	}()
	// Wait until the playlist lists four segments (about 2 s at double
	// speed), then kill the recorder without any chance to clean up.
	store := objstore.NewLocal(dir)
	var plPath string
	deadline := time.Now().Add(45 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the child recorder never listed 4 segments")
		}
		if ps := recordingPrefixes(t, store); len(ps) == 1 {
			plPath = filepath.Join(store.Path(testBucket, ps[0]), "media/hls/240p30/playlist.m3u8")
			if b, err := os.ReadFile(plPath); err == nil && strings.Count(string(b), "#EXTINF") >= 4 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // land somewhere inside a segment
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}

	root := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(plPath))))
	if _, err := os.Stat(filepath.Join(root, "events/recording-started.json")); err != nil {
		t.Errorf("recording-started.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "events/recording-ended.json")); err == nil {
		t.Error("recording-ended.json exists although the recorder was killed")
	}
	pl, whole := checkRendition(t, filepath.Dir(plPath), 320, 240)
	if pl.Ended {
		t.Error("playlist of a killed recording has EXT-X-ENDLIST")
	}
	if len(pl.Segments) < 4 || whole.VideoFrames < 4*30 {
		t.Errorf("%d segments, %d frames after the kill", len(pl.Segments), whole.VideoFrames)
	}
	t.Logf("killed recorder left %d listed segments, %d video frames", len(pl.Segments), whole.VideoFrames)
}
