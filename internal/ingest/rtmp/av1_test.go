package rtmp

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"

	"github.com/stagecast/stagecast/internal/media"
)

// av1TemporalUnits encodes seconds of test picture with SVT-AV1 and splits
// the OBU stream into temporal units (temporal delimiters dropped).
func av1TemporalUnits(t *testing.T, seconds int) [][][]byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(t.TempDir(), "test.obu")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", itoa(seconds),
		"-c:v", "libsvtav1", "-preset", "12", "-g", "30", "-f", "obu", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("libsvtav1 unavailable: %v %s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var obus av1.Bitstream
	if err := obus.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	var tus [][][]byte
	var cur [][]byte
	for _, o := range obus {
		if av1.OBUType((o[0]>>3)&0b1111) == av1.OBUTypeTemporalDelimiter {
			if len(cur) > 0 {
				tus = append(tus, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, o)
	}
	if len(cur) > 0 {
		tus = append(tus, cur)
	}
	return tus
}

func TestEnhancedRTMPAV1(t *testing.T) {
	t.Parallel()
	tus := av1TemporalUnits(t, 3)
	sink := newFakeSink(testKey)
	srv := startServer(t, Config{Sink: sink})
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
	// gortmplib's writer puts a placeholder sequence header in the
	// sequence start; the server must take the key frame's.
	track := &gortmplib.Track{Codec: &codecs.AV1{}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i, tu := range tus {
		if err := w.WriteAV1(track, time.Duration(i)*time.Second/30, tu); err != nil {
			t.Fatal(err)
		}
	}
	sess := waitSession(t, sink, 20*time.Second)
	tr := sess.Req.Tracks
	if len(tr) != 1 || tr[0].Codec != media.AV1 || tr[0].Width != 640 || tr[0].Height != 360 || len(tr[0].AV1Config) == 0 {
		t.Fatalf("tracks %+v", tr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sess.Snapshot()) < len(tus) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	units := sess.Snapshot()
	if len(units) != len(tus) || !units[0].Key {
		t.Fatalf("%d units (want %d), first key %v", len(units), len(tus), len(units) > 0 && units[0].Key)
	}
	for i, u := range units {
		var bs av1.Bitstream
		if err := bs.Unmarshal(u.Payload); err != nil || len(bs) != len(tus[i]) {
			t.Fatalf("unit %d: payload is not the temporal unit (%v, OBU types %v, sent %v)", i, err, obuTypes(bs), obuTypes(tus[i]))
		}
		if i > 0 && u.DTS <= units[i-1].DTS {
			t.Fatalf("unit %d DTS %d after %d", i, u.DTS, units[i-1].DTS)
		}
	}
}

func obuTypes(obus [][]byte) []av1.OBUType {
	out := make([]av1.OBUType, len(obus))
	for i, o := range obus {
		out[i] = av1.OBUType((o[0] >> 3) & 0b1111)
	}
	return out
}
