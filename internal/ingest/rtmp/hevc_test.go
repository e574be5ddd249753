package rtmp

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/stagecast/stagecast/internal/media"
)

// hevcAccessUnits encodes seconds of test picture with libx265 (no
// B-frames) and splits the Annex B stream into access units.
func hevcAccessUnits(t *testing.T, seconds int) [][][]byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(t.TempDir(), "test.h265")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", itoa(seconds),
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=30:bframes=0:log-level=error",
		"-f", "hevc", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("libx265 unavailable: %v %s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	nalus := splitAnnexB(raw)
	var aus [][][]byte
	var cur [][]byte
	for _, n := range nalus {
		cur = append(cur, n)
		if h265.NALUType((n[0]>>1)&0b111111) < 32 { // one slice per picture
			aus = append(aus, cur)
			cur = nil
		}
	}
	return aus
}

func itoa(n int) string { return strconv.Itoa(n) }

// splitAnnexB cuts a whole Annex B file at its start codes (mediacommon's
// AnnexB caps a single access unit at 50 NAL units).
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				out = append(out, b[start:end])
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

func TestEnhancedRTMPHEVC(t *testing.T) {
	t.Parallel()
	aus := hevcAccessUnits(t, 3)
	var vps, sps, pps []byte
	for _, n := range aus[0] {
		switch h265.NALUType((n[0] >> 1) & 0b111111) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	if vps == nil || sps == nil || pps == nil {
		t.Fatal("no parameter sets in the first access unit")
	}

	sink := newFakeSink(testKey)
	var logs logBuffer
	srv := startServer(t, Config{Sink: sink, Log: logs.Logger()})
	u, err := url.Parse("rtmp://" + srv.Addr().String() + "/app#" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	track := &gortmplib.Track{Codec: &codecs.H265{VPS: vps, SPS: sps, PPS: pps}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i, au := range aus {
		ts := time.Duration(i) * time.Second / 30
		if err := w.WriteH265(track, ts, ts, au); err != nil {
			t.Fatal(err)
		}
	}

	sess := waitSession(t, sink, 20*time.Second)
	tr := sess.Req.Tracks
	if len(tr) != 1 || tr[0].Codec != media.H265 || tr[0].Width != 640 || tr[0].Height != 360 ||
		len(tr[0].VPS) == 0 || len(tr[0].SPS) == 0 || len(tr[0].PPS) == 0 {
		t.Fatalf("tracks %+v", tr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sess.Snapshot()) < len(aus)-1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	checkUnits(t, tr, sess.Snapshot(), []int{len(aus) - 1})
	// The client hangs up without unpublishing: reported as a failure.
	c.Close()
	if err := sess.WaitClosed(t, 10*time.Second); err == nil {
		t.Error("Close(nil) for a connection dropped without unpublish")
	}
}
