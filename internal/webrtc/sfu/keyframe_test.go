package sfu

import (
	"bytes"
	"testing"

	"github.com/pion/rtp/codecs"
)

func TestVP8KeyFrame(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want bool
	}{
		{"plain key start", []byte{0x10, 0x00, 0x9d}, true},
		{"plain inter start", []byte{0x10, 0x01}, false},
		{"continuation", []byte{0x00, 0x00}, false},
		{"other partition", []byte{0x11, 0x00}, false},
		{"extended, 15-bit picture id, key", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"extended, 7-bit picture id, inter", []byte{0x90, 0x80, 0x05, 0x01}, false},
		{"extended, pid+tl0+tid, key", []byte{0x90, 0xe0, 0x05, 0x07, 0x20, 0x00}, true},
		{"truncated", []byte{0x90}, false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		if got := vp8KeyFrame(c.b); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
	// Agrees with pion's payloader output for a key frame.
	p := &codecs.VP8Payloader{EnablePictureID: true}
	pkts := p.Payload(1200, append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}, make([]byte, 3000)...))
	if !vp8KeyFrame(pkts[0]) || vp8KeyFrame(pkts[1]) {
		t.Fatal("payloaded key frame misread")
	}
}

func TestH264KeyFrame(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want bool
	}{
		{"idr", []byte{0x65, 0x88}, true},
		{"sps", []byte{0x67, 0x42}, true},
		{"non-idr slice", []byte{0x41, 0x9a}, false},
		{"stap-a with sps", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"stap-a without", []byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		{"stap-a zero size", []byte{0x78, 0x00, 0x00, 0x67}, false},
		{"fu-a idr start", []byte{0x7c, 0x85}, true},
		{"fu-a idr middle", []byte{0x7c, 0x05}, false},
		{"fu-a non-idr start", []byte{0x7c, 0x81}, false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		if got := h264KeyFrame(c.b); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

func TestSplitAnnexB(t *testing.T) {
	in := []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5}
	got := splitAnnexB(in)
	want := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5}}
	if len(got) != len(want) {
		t.Fatalf("got %x", got)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("nal %d: %x", i, got[i])
		}
	}
}

func FuzzKeyFrameParsers(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x05, 0x07, 0x20, 0x00})
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce})
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4*maxKeyFrameProbe {
			b = b[:4*maxKeyFrameProbe]
		}
		vp8KeyFrame(b)
		h264KeyFrame(b)
		total := 0
		for _, n := range splitAnnexB(b) {
			if len(n) == 0 {
				t.Fatal("empty NAL unit")
			}
			total += len(n)
		}
		if total > len(b) {
			t.Fatal("NAL units longer than input")
		}
	})
}
