package compose

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// TestAACAudioDecoder: an audio-only publisher with AAC (an RTMP ingest
// participant) is decoded to PCM for the mixer.
func TestAACAudioDecoder(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "a.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100",
		"-t", "2", "-c:a", "aac", "-ac", "2", "-f", "mpegts", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: bufio.NewReader(f)}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	tr := r.Tracks()[0]
	cfg := tr.Codec.(*codecs.MPEG4Audio).Config
	conf, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	track := media.Track{Kind: media.Audio, Codec: media.AAC, ClockRate: cfg.SampleRate, AACConfig: conf, Channels: 2, SampleRate: cfg.SampleRate}
	var units []*media.Unit
	r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
		p := pts * int64(cfg.SampleRate) / 90000
		for i, au := range aus {
			units = append(units, &media.Unit{PTS: p + int64(i)*1024, Payload: au})
		}
		return nil
	})
	for r.Read() == nil {
	}
	hub := stream.NewHub([]media.Track{track}, nil)
	p := newParticipant("a", hubSource{Reader: hub.NewReader("t", 0), tracks: hub.Tracks()}, discard(), layout.Tile{}, nil)
	sink := &pcmSink{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wg.Go(func() {
		p.run(ctx, &Options{Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 2 * time.Second}}, sink, func() {})
	})
	for _, u := range units {
		hub.Write(u)
	}
	hub.Close()
	wg.Wait()
	// 2 s resampled to 48 kHz stereo s16le: 384000 bytes (the encoder's
	// priming may trim a little).
	if sink.n < 300000 || sink.n > 400000 {
		t.Fatalf("%d bytes of PCM for 2 s", sink.n)
	}
}
