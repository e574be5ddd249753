package compose

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/compose/canvas"
	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

type pcmSink struct {
	mu sync.Mutex
	n  int
}

func (p *pcmSink) Write(_ string, b []byte) {
	p.mu.Lock()
	p.n += len(b)
	p.mu.Unlock()
}

// TestVP8Decoder feeds VP8 frames (as the SFU delivers them: no size in
// the track) through a participant's video decoder and gets pictures of
// the source colour at about the tile size.
func TestVP8Decoder(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "v.ivf")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=yellow:s=320x240:r=30",
		"-t", "2", "-c:v", "libvpx", "-deadline", "realtime", "-g", "15", "-f", "ivf", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 32 {
		t.Fatal(err)
	}
	track := media.Track{Kind: media.Video, Codec: media.VP8, ClockRate: 90000}
	var units []*media.Unit
	for off := int(binary.LittleEndian.Uint16(data[6:])); off+12 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		pts := int64(binary.LittleEndian.Uint64(data[off+4:]))
		frame := data[off+12 : off+12+n]
		units = append(units, &media.Unit{PTS: pts * 3000, Key: frame[0]&1 == 0, Payload: frame})
		off += 12 + n
	}
	hub := stream.NewHub([]media.Track{track}, nil)
	p := newParticipant("v", hubSource{Reader: hub.NewReader("t", 0), tracks: hub.Tracks()}, discard(),
		layout.Tile{Rect: layout.Rect{W: 160, H: 120}, Fill: layout.Cover}, nil)
	o := &Options{Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 2 * time.Second}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	keys := 0
	wg.Go(func() {
		p.run(ctx, o, &pcmSink{}, func() { keys++ })
	})
	for _, u := range units {
		hub.Write(u)
		time.Sleep(5 * time.Millisecond)
	}
	t0 := time.Now()
	waitForT(t, 20*time.Second, func() bool { return p.decoded.Load() >= 10 })
	t.Logf("decoded after %s", time.Since(t0))
	f := p.latest.Load()
	hub.Close() // the source ends: the decoders drain and run returns
	wg.Wait()
	t.Logf("drained after %s", time.Since(t0))
	cancel()
	if f.W != 160 || f.H != 120 {
		t.Fatalf("picture %dx%d, want the tile size 160x120", f.W, f.H)
	}
	if got, want := f.At(80, 60), canvas.RGB(255, 255, 0); !near(got, want) {
		t.Fatalf("colour %v, want %v", got, want)
	}
	if keys != 1 {
		t.Fatalf("%d key frame requests", keys)
	}
}
