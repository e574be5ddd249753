package rtmp

import (
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/stagecast/stagecast/internal/media"
)

// A 1280x720 High profile SPS and its PPS, as x264 writes them.
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x6a, 0x02, 0x02, 0x02, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x07, 0x8c, 0x18, 0xcb}
	testPPS = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
)

func TestMediaTracks(t *testing.T) {
	t.Parallel()
	in := []*gortmplib.Track{
		{Codec: &codecs.H264{SPS: testSPS, PPS: testPPS}},
		{Codec: &codecs.MPEG4Audio{Config: &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2}}},
	}
	got, err := mediaTracks(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := got[0]; v.Codec != media.H264 || v.Width != 1280 || v.Height != 720 || v.ClockRate != 90000 {
		t.Errorf("video %+v", v)
	}
	if a := got[1]; a.Codec != media.AAC || a.SampleRate != 44100 || a.Channels != 2 || a.ID != 1 || len(a.AACConfig) != 2 {
		t.Errorf("audio %+v", a)
	}
	if _, err := mediaTracks([]*gortmplib.Track{{Codec: &codecs.MPEG1Audio{}}}, nil); err == nil {
		t.Error("MP3 accepted")
	}
	if _, err := mediaTracks([]*gortmplib.Track{{Codec: &codecs.H264{SPS: []byte{0x67}, PPS: testPPS}}}, nil); err == nil {
		t.Error("broken SPS accepted")
	}
}

func TestH26xUnits(t *testing.T) {
	t.Parallel()
	c := &h26xUnits{track: 0}
	now := time.Now()
	// A configuration message alone yields nothing; its parameter sets go
	// in front of the next picture.
	if u := c.unit(0, 0, [][]byte{testSPS, testPPS}, now); u != nil {
		t.Fatalf("unit for parameter sets alone: %+v", u)
	}
	idr := []byte{0x65, 0x88, 0x84}
	u := c.unit(40*time.Millisecond, 0, [][]byte{{0x09, 0xf0}, idr}, now)
	if u == nil || !u.Key || len(u.NALUs) != 3 || u.NALUs[2][0] != 0x65 || u.PTS != 3600 || u.DTS != 0 {
		t.Fatalf("IDR unit %+v", u)
	}
	u = c.unit(80*time.Millisecond, 40*time.Millisecond, [][]byte{{0x41, 0x9a}}, now)
	if u == nil || u.Key || len(u.NALUs) != 1 || u.DTS != 3600 {
		t.Fatalf("P unit %+v", u)
	}
	h := &h26xUnits{hevc: true}
	u = h.unit(0, 0, [][]byte{{0x26, 0x01, 0xaf}}, now) // IDR_W_RADL
	if u == nil || !u.Key {
		t.Fatalf("HEVC IDR %+v", u)
	}
	u = h.unit(0, 0, [][]byte{{0x02, 0x01, 0xd0}}, now) // TRAIL_R
	if u == nil || u.Key {
		t.Fatalf("HEVC trail %+v", u)
	}
}

func TestAACUnitsSmoothMilliseconds(t *testing.T) {
	t.Parallel()
	c := newAACUnits(1, media.Track{ClockRate: 48000})
	now := time.Now()
	// 1024-sample frames at 48 kHz are 21.333 ms; RTMP rounds to 21/22 ms.
	var prev int64 = -1
	for i := range 100 {
		ms := time.Duration(i*1024*1000/48000) * time.Millisecond
		u := c.unit(1000*time.Millisecond+ms, []byte{1}, now)
		if prev >= 0 && u.DTS-prev != 1024 {
			t.Fatalf("frame %d: step %d, want 1024", i, u.DTS-prev)
		}
		prev = u.DTS
	}
	// A gap resynchronises to the publisher's clock.
	u := c.unit(10*time.Second, []byte{1}, now)
	if u.DTS != 480000 {
		t.Fatalf("after gap DTS %d, want 480000", u.DTS)
	}
}

func TestEncoderFromMetadata(t *testing.T) {
	t.Parallel()
	d := amf0.Data{"@setDataFrame", "onMetaData", amf0.ECMAArray{
		{Key: "width", Value: float64(1280)},
		{Key: "encoder", Value: "obs-output module (libobs version 30.0.0)\x00\n"},
	}}
	if got := encoderFromMetadata(d); got != "obs-output module (libobs version 30.0.0)" {
		t.Errorf("encoder %q", got)
	}
	if got := encoderFromMetadata(amf0.Data{"onMetaData", amf0.Object{}}); got != "" {
		t.Errorf("encoder %q", got)
	}
}

func BenchmarkH264Unit(b *testing.B) {
	c := &h26xUnits{}
	au := [][]byte{{0x06, 0x05, 0x10}, make([]byte, 20000)}
	au[1][0] = 0x65
	now := time.Now()
	var pts time.Duration
	for b.Loop() {
		pts += 33 * time.Millisecond
		if c.unit(pts, pts, au, now) == nil {
			b.Fatal("no unit")
		}
	}
}

func BenchmarkAACUnit(b *testing.B) {
	c := newAACUnits(1, media.Track{ClockRate: 48000})
	frame := make([]byte, 300)
	now := time.Now()
	var pts time.Duration
	for b.Loop() {
		pts += 21 * time.Millisecond
		_ = c.unit(pts, frame, now)
	}
}

// FuzzEncoderFromMetadata feeds AMF0 bodies (as an RTMP data message
// carries them) through the metadata lookup.
func FuzzEncoderFromMetadata(f *testing.F) {
	seed, err := amf0.Data{"@setDataFrame", "onMetaData", amf0.ECMAArray{{Key: "encoder", Value: "Lavf59.27.100"}}}.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := amf0.Unmarshal(body)
		if err != nil {
			return
		}
		enc := encoderFromMetadata(d)
		if len(enc) > maxEncoderLen {
			t.Fatalf("encoder of %d bytes", len(enc))
		}
		for _, r := range enc {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("non-printable %q", enc)
			}
		}
	})
}
