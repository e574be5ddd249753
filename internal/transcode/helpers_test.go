package transcode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
}

var (
	sourceMu    sync.Mutex
	sourceFiles = map[string]string{}
)

// sourceTS returns an MPEG-TS file (cached per test binary) of seconds of
// 1280x720 30 fps H.264 (2 s GOP, B-frames) and 48 kHz stereo AAC.
func sourceTS(t testing.TB, seconds int) string {
	t.Helper()
	needFFmpeg(t)
	sourceMu.Lock()
	defer sourceMu.Unlock()
	key := fmt.Sprint(seconds)
	if p, ok := sourceFiles[key]; ok {
		return p
	}
	// Kept between runs (generating it costs seconds on a busy machine).
	p := filepath.Join(os.TempDir(), fmt.Sprintf("stagecast-transcode-src-720p30-1500k-%ds.ts", seconds))
	if _, err := os.Stat(p); err == nil {
		sourceFiles[key] = p
		return p
	}
	tmp := p + fmt.Sprintf(".%d.tmp", os.Getpid())
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-ac", "2", "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1500k", "-g", "60", "-bf", "2", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-f", "mpegts", tmp).CombinedOutput()
	if err != nil {
		t.Fatalf("generate source: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	sourceFiles[key] = p
	return p
}

type demuxed struct {
	tracks []media.Track
	units  []*media.Unit
}

var (
	demuxMu    sync.Mutex
	demuxCache = map[string]demuxed{}
)

// demuxFile demuxes path once per test binary (units are immutable and
// shared between tests).
func demuxFile(t testing.TB, path string) ([]media.Track, []*media.Unit) {
	t.Helper()
	demuxMu.Lock()
	defer demuxMu.Unlock()
	if d, ok := demuxCache[path]; ok {
		return d.tracks, d.units
	}
	start := time.Now()
	defer func() { t.Logf("demuxed %s in %v", filepath.Base(path), time.Since(start)) }()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tracks, units, err := DemuxTS(f)
	if err != nil {
		t.Fatal(err)
	}
	demuxCache[path] = demuxed{tracks, units}
	return tracks, units
}

// publish writes copies of units, stamped with their Arrival, to hub at
// speed times real time (0 = as fast as possible), then closes the hub,
// unless ctx ends first.
func publish(ctx context.Context, hub *stream.Hub, tracks []media.Track, units []*media.Unit, speed float64) {
	defer hub.Close()
	start := time.Now()
	var t0 time.Duration
	for i, u := range units {
		at := media.Duration(u.DTS, tracks[u.Track].ClockRate)
		if i == 0 {
			t0 = at
		}
		if speed > 0 {
			wait := time.Duration(float64(at-t0)/speed) - time.Since(start)
			if wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		c := *u
		c.Arrival = time.Now()
		hub.Write(&c)
	}
}

// writeTS remuxes units of the given tracks to an MPEG-TS file.
func writeTS(t testing.TB, path string, tracks []media.Track, units []*media.Unit) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byID := map[int]*mpegts.Track{}
	var list []*mpegts.Track
	for _, tr := range tracks {
		var c tscodecs.Codec
		switch tr.Codec {
		case media.H264:
			c = &tscodecs.H264{}
		case media.AAC:
			var conf mpeg4audio.AudioSpecificConfig
			if err := conf.Unmarshal(tr.AACConfig); err != nil {
				t.Fatal(err)
			}
			c = &tscodecs.MPEG4Audio{Config: conf}
		default:
			continue
		}
		mt := &mpegts.Track{Codec: c}
		byID[tr.ID] = mt
		list = append(list, mt)
	}
	w := &mpegts.Writer{W: f, Tracks: list}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		mt := byID[u.Track]
		if mt == nil {
			continue
		}
		var err error
		tr := tracks[u.Track]
		if tr.Kind == media.Video {
			au := u.NALUs
			if u.Key {
				au = withParams(tr, au)
			}
			err = w.WriteH264(mt, u.PTS, u.DTS, au)
		} else {
			err = w.WriteMPEG4Audio(mt, u.PTS*tsClock/int64(tr.ClockRate), [][]byte{u.Payload})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

type probeResult struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTS       int64  `json:"pts"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

func ffprobe(t testing.TB, path string) probeResult {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams",
		"-show_entries", "packet=codec_type,pts,flags", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// keyPTS lists the video key frame PTS ffprobe found.
func (r probeResult) keyPTS() []int64 {
	var out []int64
	for _, p := range r.Packets {
		if p.CodecType == "video" && len(p.Flags) > 0 && p.Flags[0] == 'K' {
			out = append(out, p.PTS)
		}
	}
	return out
}

// collect reads a hub until it closes, keeping every unit.
type collector struct {
	mu    sync.Mutex
	units []*media.Unit
}

func (c *collector) run(r *stream.Reader) {
	for u := range r.C() {
		c.mu.Lock()
		c.units = append(c.units, u)
		c.mu.Unlock()
	}
}

func (c *collector) snapshot() []*media.Unit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*media.Unit(nil), c.units...)
}

func (c *collector) count(track int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, u := range c.units {
		if u.Track == track {
			n++
		}
	}
	return n
}
