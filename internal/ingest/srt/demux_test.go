package srt

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/stagecast/stagecast/internal/media"
)

// A 1280x720 High profile SPS and its PPS, as x264 writes them.
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x6a, 0x02, 0x02, 0x02, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x07, 0x8c, 0x18, 0xcb}
	testPPS = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
)

const tsWrap = 1 << 33

// testTS writes a transport stream whose clock wraps after one second:
// a P picture first (undecodable, must be dropped), then GOPs of 30 with
// SPS/PPS before every IDR, and 48 kHz stereo AAC in PES of 3 frames.
func testTS(t testing.TB, pictures int) []byte {
	t.Helper()
	video := &mpegts.Track{Codec: &mpegts.CodecH264{}}
	audio := &mpegts.Track{Codec: &mpegts.CodecMPEG4Audio{Config: mpeg4audio.AudioSpecificConfig{
		Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2, ChannelCount: 2}}}
	var buf bytes.Buffer
	w := &mpegts.Writer{W: &buf, Tracks: []*mpegts.Track{video, audio}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	start := int64(tsWrap - 90000)
	frame := make([]byte, 200)
	aacTS := start
	for i := -1; i < pictures; i++ {
		ts := start + int64(i+1)*3000
		au := [][]byte{{0x41, 0x9a, 0x01, 0x02}}
		if i >= 0 && i%30 == 0 {
			au = [][]byte{testSPS, testPPS, {0x65, 0x88, 0x84, 0x00}}
		}
		if err := w.WriteH264(video, ts%tsWrap, ts%tsWrap, au); err != nil {
			t.Fatal(err)
		}
		for aacTS+3*1920 <= ts { // 1024 samples at 48 kHz = 1920 ticks at 90 kHz
			if err := w.WriteMPEG4Audio(audio, aacTS%tsWrap, [][]byte{frame, frame, frame}); err != nil {
				t.Fatal(err)
			}
			aacTS += 3 * 1920
		}
	}
	return buf.Bytes()
}

func TestDemuxer(t *testing.T) {
	t.Parallel()
	r := &mpegts.Reader{R: bytes.NewReader(testTS(t, 90))}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	d, err := newDemuxer(r.Tracks())
	if err != nil {
		t.Fatal(err)
	}
	d.attach(r)
	for !d.ready() {
		if err := r.Read(); err != nil {
			t.Fatalf("not ready at %v", err)
		}
	}
	var units []*media.Unit
	d.goLive(func(u *media.Unit) { units = append(units, u) })
	for r.Read() == nil {
	}
	v, a := d.tracks[0], d.tracks[1]
	if v.Codec != media.H264 || v.Width != 1280 || v.Height != 720 || len(v.SPS) == 0 || len(v.PPS) == 0 {
		t.Errorf("video %+v", v)
	}
	if a.Codec != media.AAC || a.SampleRate != 48000 || a.Channels != 2 || a.ClockRate != 48000 {
		t.Errorf("audio %+v", a)
	}
	var first *media.Unit
	last := map[int]int64{}
	seen := map[int]bool{}
	counts := map[int]int{}
	for _, u := range units {
		if u.Track == 0 && first == nil {
			first = u
		}
		if seen[u.Track] && u.DTS <= last[u.Track] {
			t.Fatalf("track %d DTS %d after %d (clock wrap not unwrapped?)", u.Track, u.DTS, last[u.Track])
		}
		if u.Track == 1 && seen[1] && u.DTS-last[1] != 1024 {
			t.Fatalf("AAC step %d, want 1024", u.DTS-last[1])
		}
		seen[u.Track], last[u.Track] = true, u.DTS
		counts[u.Track]++
	}
	if first == nil || !first.Key {
		t.Fatalf("first video unit %+v, want the IDR", first)
	}
	if counts[0] != 90 {
		t.Errorf("%d video units, want 90 (the leading P picture dropped)", counts[0])
	}
	if last[0] < 89*3000 {
		t.Errorf("video ends at %d", last[0])
	}
	if counts[1] < 130 {
		t.Errorf("%d audio units", counts[1])
	}
}

func TestDemuxerBufferLimit(t *testing.T) {
	t.Parallel()
	d := &demuxer{tracks: []media.Track{{Kind: media.Video, Codec: media.H264}}, seenKey: []bool{false}}
	for range maxBufferedUnits + 1 {
		d.emit(&media.Unit{Payload: []byte{1}})
	}
	if !d.overflow || len(d.buf) != maxBufferedUnits {
		t.Fatalf("overflow %v buffered %d", d.overflow, len(d.buf))
	}
}

// maxFuzzTS bounds fuzz inputs: enough for a PAT, a PMT and a few PES.
const maxFuzzTS = 64 << 10

// FuzzDemux feeds arbitrary bytes, as an SRT caller could, through the
// MPEG-TS reader and the demuxer.
func FuzzDemux(f *testing.F) {
	f.Add(testTS(f, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzTS {
			return
		}
		r := &mpegts.Reader{R: bytes.NewReader(data)}
		if err := r.Initialize(); err != nil {
			return
		}
		d, err := newDemuxer(r.Tracks())
		if err != nil {
			return
		}
		d.attach(r)
		d.goLive(func(u *media.Unit) {
			if u.Track < 0 || u.Track >= len(d.tracks) {
				t.Fatalf("unit for track %d", u.Track)
			}
		})
		for range 10000 {
			if r.Read() != nil {
				break
			}
		}
	})
}

func BenchmarkDemux(b *testing.B) {
	ts := testTS(b, 300)
	b.SetBytes(int64(len(ts)))
	for b.Loop() {
		r := &mpegts.Reader{R: bytes.NewReader(ts)}
		if err := r.Initialize(); err != nil {
			b.Fatal(err)
		}
		d, err := newDemuxer(r.Tracks())
		if err != nil {
			b.Fatal(err)
		}
		d.attach(r)
		d.goLive(func(*media.Unit) {})
		for r.Read() == nil {
		}
	}
}
