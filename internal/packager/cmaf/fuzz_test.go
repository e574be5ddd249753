package cmaf

import (
	"testing"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/segstore"
	"github.com/stagecast/stagecast/internal/stream"
)

func TestID3RoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "hello", `{"a":1}`, string(make([]byte, 300))} {
		got, err := ParseID3TXXX(ID3TXXX(p))
		if err != nil || got != p {
			t.Errorf("round trip of %d bytes: %q, %v", len(p), got, err)
		}
		box := appendEmsg(nil, 90000, 12345, 7, ID3TXXX(p))
		ems, err := FindEmsg(box)
		if err != nil || len(ems) != 1 || ems[0].Scheme != EmsgSchemeID3 || ems[0].PresentationTime != 12345 || ems[0].ID != 7 || ems[0].Timescale != 90000 {
			t.Fatalf("FindEmsg = %+v, %v", ems, err)
		}
	}
}

func FuzzFindEmsg(f *testing.F) {
	f.Add(appendEmsg(nil, 1000, 1, 1, ID3TXXX("x")))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'f'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ems, _ := FindEmsg(b)
		for _, e := range ems {
			if len(e.Data) > len(b) {
				t.Fatal("emsg data larger than input")
			}
		}
	})
}

func FuzzParseID3TXXX(f *testing.F) {
	f.Add(ID3TXXX("payload"))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x0aTXXX\x00\x00\x00\x7f\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseID3TXXX(b)
		if err == nil && len(v) > len(b) {
			t.Fatal("value longer than tag")
		}
	})
}

// fuzzSPS is a valid 1920x1080 H.264 SPS (mediacommon's test vector).
var fuzzSPS = []byte{
	0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02,
	0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04,
	0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9,
	0x20,
}

// maxFuzzUnits bounds the units one fuzz input describes.
const maxFuzzUnits = 2000

// FuzzSegmenter drives the segmenter with arbitrary unit sequences (track,
// key flag, DTS step, PTS offset, discontinuities) in both containers: it
// must never fail or panic, and what it publishes must stay consistent.
func FuzzSegmenter(f *testing.F) {
	f.Add([]byte{0x80, 30, 0, 0, 0, 2, 0, 0, 0x00, 30, 0, 0, 0x80, 30, 0, 0})
	f.Add([]byte{0xc0, 0xff, 0xff, 3, 0x40, 0, 0, 0, 0x80, 1, 0x80, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, container := range []segstore.Container{segstore.FMP4, segstore.TS} {
			tracks := []media.Track{
				{ID: 0, Kind: media.Video, Codec: media.H264, ClockRate: 90000, SPS: fuzzSPS, PPS: []byte{0x68, 0xce, 0x3c, 0x80}},
				{ID: 1, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000, AACConfig: []byte{0x11, 0x90}},
			}
			store := segstore.New(segstore.Options{WindowSegments: 3})
			ch := store.Open("arn:aws:ivs:us-east-1:123456789012:channel/fuzz", segstore.Low, container)
			rd, _ := ch.AddRendition("x", segstore.RenditionInfo{Tracks: tracks})
			hub := stream.NewHub(tracks, nil)
			s, err := New(hub.NewReader("x", 1), tracks, rd, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var vdts, adts int64
			for i := 0; i+4 <= len(in) && i/4 < maxFuzzUnits; i += 4 {
				b := in[i : i+4]
				step := int64(int8(b[1])) * 100
				u := &media.Unit{Key: b[0]&0x40 != 0, Discontinuity: b[0]&0x20 != 0}
				if b[0]&0x80 != 0 {
					vdts += step
					u.Track, u.DTS, u.PTS = 0, vdts, vdts+int64(b[2])*100
					nal := byte(1)
					if u.Key {
						nal = 5
					}
					u.NALUs = [][]byte{{nal, b[3]}}
				} else {
					adts += step
					u.Track, u.DTS, u.PTS, u.Key = 1, adts, adts, true
					u.Payload = []byte{b[2], b[3]}
				}
				if err := s.handle(u); err != nil {
					t.Fatalf("handle: %v", err)
				}
			}
			if s.started {
				if err := s.flush(); err != nil {
					t.Fatalf("flush: %v", err)
				}
			}
			snap := rd.Snapshot()
			for i, seg := range snap.Segments {
				if i > 0 && seg.MSN != snap.Segments[i-1].MSN+1 {
					t.Fatal("msn gap")
				}
				for _, p := range seg.Parts {
					if p.Duration < 0 || len(p.Data) == 0 {
						t.Fatalf("part %+v", p)
					}
				}
			}
			ch.Close()
		}
	})
}
