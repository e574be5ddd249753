package compose

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/stream"
)

func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
}

// clip is a synthetic publisher: H.264 + Opus units with timestamps.
type clip struct {
	tracks   []media.Track
	units    []*media.Unit
	duration time.Duration
}

// makeClip encodes seconds of a solid colour (with a moving test pattern
// corner left out: the whole picture is one colour) and a sine tone.
func makeClip(t testing.TB, colour string, freq, seconds, w, h int) *clip {
	t.Helper()
	path := filepath.Join(t.TempDir(), colour+".ts")
	out, err := exec.Command("ffmpeg", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=%s:s=%dx%d:r=30", colour, w, h),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=f=%d:sample_rate=48000", freq),
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-bf", "0",
		"-pix_fmt", "yuv420p", "-c:a", "libopus", "-ac", "2", "-b:a", "64k", "-f", "mpegts", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	return loadClip(t, path, w, h, seconds)
}

// loadClip demuxes an H.264 + Opus MPEG-TS file into units.
func loadClip(t testing.TB, path string, w, h, seconds int) *clip {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: bufio.NewReader(f)}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	c := &clip{tracks: []media.Track{
		{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, Width: w, Height: h},
		{ID: 1, Kind: media.Audio, Codec: media.Opus, ClockRate: 48000, Channels: 2, SampleRate: 48000},
	}}
	base := int64(-1)
	rel := func(p int64) int64 {
		if base < 0 {
			base = p
		}
		return p - base
	}
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *codecs.H264:
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error {
				key := false
				for _, n := range au {
					key = key || n[0]&0x1f == 5
				}
				c.units = append(c.units, &media.Unit{Track: 0, PTS: rel(pts), DTS: rel(dts), Key: key, NALUs: au})
				return nil
			})
		case *codecs.Opus:
			r.OnDataOpus(tr, func(pts int64, pkts [][]byte) error {
				p := rel(pts) * 48000 / 90000
				for i, pk := range pkts {
					c.units = append(c.units, &media.Unit{Track: 1, PTS: p + int64(i)*960, Payload: pk})
				}
				return nil
			})
		}
	}
	for r.Read() == nil {
	}
	c.duration = time.Duration(seconds) * time.Second
	return c
}

// play writes the clip into hub in real time, looping, until ctx is done.
func (c *clip) play(ctx context.Context, hub *stream.Hub) {
	start := time.Now()
	for loop := 0; ; loop++ {
		off := time.Duration(loop) * c.duration
		for _, u := range c.units {
			at := off + media.Duration(u.PTS, c.tracks[u.Track].ClockRate)
			if !sleepUntil(ctx, start.Add(at)) {
				return
			}
			v := *u
			v.PTS += media.Ticks(off, c.tracks[u.Track].ClockRate)
			v.DTS = v.PTS
			hub.Write(&v)
		}
	}
}

// memDest records everything delivered.
type memDest struct {
	mu     sync.Mutex
	tracks []media.Track
	units  []*media.Unit
	starts int
	done   chan struct{}
}

func (d *memDest) Start(_ context.Context, tracks []media.Track) (Writer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tracks = tracks
	d.starts++
	d.done = make(chan struct{})
	return d, nil
}
func (d *memDest) Write(u *media.Unit) {
	d.mu.Lock()
	d.units = append(d.units, u)
	d.mu.Unlock()
}
func (d *memDest) Done() <-chan struct{} { return d.done }
func (d *memDest) Close(error)           {}

func (d *memDest) snapshot() ([]media.Track, []*media.Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tracks, append([]*media.Unit(nil), d.units...)
}

// remux writes units as MPEG-TS to path.
func remux(t *testing.T, path string, tracks []media.Track, units []*media.Unit) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	vt := &mpegts.Track{Codec: &codecs.H264{}}
	var cfg mpeg4audio.AudioSpecificConfig
	if err := cfg.Unmarshal(tracks[1].AACConfig); err != nil {
		t.Fatal(err)
	}
	at := &mpegts.Track{Codec: &codecs.MPEG4Audio{Config: cfg}}
	w := &mpegts.Writer{W: bw, Tracks: []*mpegts.Track{vt, at}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Track == 0 {
			err = w.WriteH264(vt, u.PTS, u.DTS, u.NALUs)
		} else {
			err = w.WriteMPEG4Audio(at, u.PTS*90000/48000, [][]byte{u.Payload})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

func rgbAt(img []byte, w, x, y int) [3]int {
	i := (y*w + x) * 3
	return [3]int{int(img[i]), int(img[i+1]), int(img[i+2])}
}

func closeRGB(a, b [3]int) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 40 {
			return false
		}
	}
	return true
}

// TestComposeFFmpeg runs a composition end to end with real ffmpeg: two
// publishers (red + 440 Hz, blue + 1 kHz), then a third (lime + 700 Hz)
// mid-run; the output is remuxed and decoded.
func TestComposeFFmpeg(t *testing.T) {
	needFFmpeg(t)
	red := makeClip(t, "red", 440, 4, 640, 360)
	blue := makeClip(t, "blue", 1000, 4, 640, 360)
	lime := makeClip(t, "lime", 700, 4, 640, 360)

	stages := newFakeStages()
	hubs := map[string]*stream.Hub{
		"a": stream.NewHub(red.tracks, nil), "b": stream.NewHub(blue.tracks, nil), "c": stream.NewHub(lime.tracks, nil),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { red.play(ctx, hubs["a"]) })
	wg.Go(func() { blue.play(ctx, hubs["b"]) })
	wg.Go(func() { lime.play(ctx, hubs["c"]) })
	stages.set([]Publisher{{ParticipantID: "a", Joined: 1}, {ParticipantID: "b", Joined: 2}}, hubs)

	var smu sync.Mutex
	var states []State
	dest := &memDest{}
	comp := New(Options{Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Stages: stages, Compose: compCfg(), Transcode: config.Transcode{FFmpeg: "ffmpeg", StopGrace: 3 * time.Second},
		Destination: func(context.Context, *rtapi.Composition, rtapi.Destination) (Destination, error) { return dest, nil },
		// 1280x720 at 15 fps: half the work of 30 fps on a shared test
		// machine; the benchmark covers 30 fps.
		EncoderConfig: func(_ context.Context, arn string) (VideoConfig, error) {
			if arn != "arn:enc" {
				return VideoConfig{}, fmt.Errorf("unknown encoder configuration %s", arn)
			}
			return VideoConfig{Width: 1280, Height: 720, Framerate: 15, Bitrate: 1_500_000}, nil
		},
		OnState: func(s State) {
			smu.Lock()
			states = append(states, s)
			smu.Unlock()
		}})
	wg.Go(func() { comp.Run(ctx) })
	arn := "arn:aws:ivs:us-east-1:123456789012:composition/test"
	rc := &rtapi.Composition{Arn: &arn, StageArn: new("arn:stage"), Destinations: []rtapi.Destination{{Id: new("d1"),
		Configuration: &rtapi.DestinationConfiguration{Channel: &rtapi.ChannelDestinationConfiguration{ChannelArn: new("arn:ch"), EncoderConfigurationArn: new("arn:enc")}}}}}
	if err := comp.Start(ctx, rc); err != nil {
		t.Fatal(err)
	}
	videoUnits := func() int {
		_, us := dest.snapshot()
		n := 0
		for _, u := range us {
			if u.Track == 0 {
				n++
			}
		}
		return n
	}
	// The encoder may lag behind the clock on a loaded machine: wait
	// until the output holds a second of each layout.
	shown := func(k int) {
		waitForT(t, 50*time.Second, func() bool {
			st, _ := comp.Stats(arn)
			f, ok := st.FirstFrameDrawn[k]
			return ok && int64(videoUnits()) >= f+15
		})
	}
	shown(2)
	stages.set([]Publisher{{ParticipantID: "a", Joined: 1}, {ParticipantID: "b", Joined: 2}, {ParticipantID: "c", Joined: 3}}, nil)
	shown(3)
	st, _ := comp.Stats(arn)
	if err := comp.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	t.Logf("stats %+v", st)

	tracks, units := dest.snapshot()
	if len(tracks) != 2 || tracks[0].Codec != media.H264 || tracks[1].Codec != media.AAC || tracks[0].Width != 1280 {
		t.Fatalf("tracks %v", tracks)
	}
	// Video timestamps: one frame apart (90000/30) all the way, across
	// the join; the first unit is a key frame.
	var last int64 = -1
	nv, na := 0, 0
	for _, u := range units {
		if u.Track != 0 {
			na++
			continue
		}
		if nv == 0 && !u.Key {
			t.Fatal("first unit is not a key frame")
		}
		nv++
		if last >= 0 && u.PTS-last != 6000 {
			t.Fatalf("video unit %d: PTS step %d (discontinuity)", nv, u.PTS-last)
		}
		last = u.PTS
	}
	if na < nv/2 {
		t.Fatalf("%d audio units for %d video units", na, nv)
	}

	dir := os.Getenv("COMPOSE_TEST_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	out := filepath.Join(dir, "out.ts")
	remux(t, out, tracks, units)

	// Scan the output (4 pictures per second, half size): the two-tile
	// layout shows first, then the three-tile one, never the reverse.
	const sw, sh = 640, 360
	raw, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-vf", fmt.Sprintf("fps=4,scale=%d:%d", sw, sh),
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{"a": {255, 0, 0}, "b": {0, 0, 255}, "c": {0, 255, 0}}
	matches := func(img []byte, ids ...string) bool {
		var ps []layout.Participant
		for i, id := range ids {
			ps = append(ps, layout.Participant{ID: id, Joined: int64(i + 1)})
		}
		tiles := layout.Compute(layout.FromRTAPI(nil), 1280, 720, ps)
		for _, tl := range tiles {
			x, y := centre(tl)
			if !closeRGB(rgbAt(img, sw, x/2, y/2), want[tl.ParticipantID]) {
				return false
			}
		}
		// Outside the tiles (top-left corner for 2, bottom-left for 3) is
		// the black background.
		cy := 2
		if len(ids) == 3 {
			cy = sh - 2
		}
		return closeRGB(rgbAt(img, sw, 2, cy), [3]int{0, 0, 0})
	}
	firstTwo, firstThree := -1, -1
	for i := 0; (i+1)*sw*sh*3 <= len(raw); i++ {
		img := raw[i*sw*sh*3 : (i+1)*sw*sh*3]
		switch {
		case matches(img, "a", "b", "c"):
			if firstThree < 0 {
				firstThree = i
			}
		case matches(img, "a", "b"):
			if firstThree >= 0 {
				t.Fatalf("picture %d shows two tiles after three", i)
			}
			if firstTwo < 0 {
				firstTwo = i
			}
		}
	}
	if firstTwo < 0 || firstThree < 0 {
		t.Fatalf("layouts seen: two tiles from picture %d, three from %d", firstTwo, firstThree)
	}
	t.Logf("two tiles from %.2fs, three from %.2fs", float64(firstTwo)/4, float64(firstThree)/4)

	// Audio: decoded PCM has signal.
	pcm, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-vn", "-f", "s16le", "-ac", "1", "-ar", "48000", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i := 0; i+1 < len(pcm); i += 2 {
		v := float64(int16(uint16(pcm[i]) | uint16(pcm[i+1])<<8))
		sum += v * v
	}
	if rms := math.Sqrt(sum / float64(len(pcm)/2)); rms < 1000 {
		t.Fatalf("audio rms %.0f: mixed tones missing", rms)
	}
	// Both publishers' tones are in the mix (and the third's at the end),
	// far above a frequency nobody sent.
	samples := make([]float64, len(pcm)/2)
	for i := range samples {
		samples[i] = float64(int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8))
	}
	tail := samples[len(samples)-48000:]
	noise := goertzel(tail, 2500)
	for _, f := range []float64{440, 1000, 700} {
		if p := goertzel(tail, f); p < 100*noise {
			t.Errorf("tone %.0f Hz: power %.3g vs %.3g at 2500 Hz", f, p, noise)
		}
	}

	smu.Lock()
	defer smu.Unlock()
	var seq []string
	for _, s := range states {
		seq = append(seq, s.DestinationID+":"+s.State)
	}
	wantSeq := []string{":STARTING", ":ACTIVE", "d1:ACTIVE", "d1:STOPPED", ":STOPPED"}
	if fmt.Sprint(seq) != fmt.Sprint(wantSeq) {
		t.Fatalf("states %v, want %v", seq, wantSeq)
	}
}

func waitForT(t *testing.T, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached in %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goertzel returns the power of frequency f (Hz) in 48 kHz samples.
func goertzel(x []float64, f float64) float64 {
	w := 2 * math.Pi * f / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}
