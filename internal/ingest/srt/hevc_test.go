package srt

import (
	"strings"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
)

func TestPublishHEVCFFmpeg(t *testing.T) {
	sink := newFakeSink(testKey, testPass)
	var logs logBuffer
	srv := startServer(t, testConfig(sink, &logs))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	res := runFFmpeg(t, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "4",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=30:log-level=error",
		"-f", "mpegts", srtURL(srv, testKey, testPass))
	var sess *fakeSession
	select {
	case sess = <-sink.NewSess:
	case r := <-res:
		if strings.Contains(r.Stderr, "libx265") || strings.Contains(r.Stderr, "Unknown encoder") {
			t.Skipf("no libx265: %s", r.Stderr)
		}
		t.Fatalf("ffmpeg exited before publishing: %v %s", r.Err, r.Stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("no session")
	}
	if r := waitFFmpeg(t, res, 60*time.Second); r.Err != nil {
		t.Fatalf("ffmpeg: %v %s", r.Err, r.Stderr)
	}
	_ = sess.WaitClosed(t, 20*time.Second) // clean or idle end: see TestPublishFFmpeg
	tr := sess.Req.Tracks
	if len(tr) != 1 || tr[0].Codec != media.H265 || tr[0].Width != 640 || tr[0].Height != 360 ||
		len(tr[0].VPS) == 0 || len(tr[0].SPS) == 0 || len(tr[0].PPS) == 0 {
		t.Fatalf("tracks %+v", tr)
	}
	units := sess.Snapshot()
	if len(units) == 0 || !units[0].Key {
		t.Fatal("first unit is not a key frame")
	}
	checkUnits(t, tr, units, []int{45})
}
