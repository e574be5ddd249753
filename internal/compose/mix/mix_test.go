package mix

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// tone returns n stereo frames of a sine at freq Hz and amplitude amp,
// starting at sample offset off, as s16le.
func tone(freq float64, amp float64, off, n int) []byte {
	s := make([]int16, 2*n)
	for i := range n {
		v := int16(amp * math.Sin(2*math.Pi*freq*float64(off+i)/SampleRate))
		s[2*i], s[2*i+1] = v, v
	}
	b := make([]byte, 4*n)
	Encode(b, s)
	return b
}

func TestMixTwoTones(t *testing.T) {
	m := New(0, time.Second)
	a, b := tone(440, 8000, 0, 960), tone(1000, 8000, 0, 960)
	m.Write("a", a)
	m.Write("b", b)
	out := make([]int16, FrameSamples)
	m.Mix(out)
	s16 := func(p []byte, i int) int16 { return int16(binary.LittleEndian.Uint16(p[4*i:])) }
	for i := range 960 {
		want := s16(a, i) + s16(b, i)
		if out[2*i] != want || out[2*i+1] != want {
			t.Fatalf("sample %d = %d/%d, want %d", i, out[2*i], out[2*i+1], want)
		}
	}
}

func TestMixClipping(t *testing.T) {
	m := New(0, time.Second)
	out := make([]int16, FrameSamples)
	var peak int
	for f := range 10 {
		// Three full-scale tones in phase: the raw sum is 3x full scale.
		for _, id := range []string{"a", "b", "c"} {
			m.Write(id, tone(440, 32000, f*960, 960))
		}
		m.Mix(out)
		for i := 1; i < len(out)/2; i++ {
			a, b := int(out[2*i-2]), int(out[2*i])
			peak = max(peak, b, -b)
			// A wrap-around would jump by ~65536; a sine at 440 Hz moves
			// at most ~2*pi*440/48000*32767 ≈ 1900 per sample.
			if d := b - a; d > 4000 || d < -4000 {
				t.Fatalf("frame %d sample %d: jump %d -> %d (wrap-around)", f, i, a, b)
			}
		}
	}
	if peak < 30000 {
		t.Fatalf("limiter too strong: peak %d", peak)
	}
}

func TestMixMissingAndPrebuffer(t *testing.T) {
	m := New(40*time.Millisecond, 200*time.Millisecond)
	out := make([]int16, FrameSamples)
	m.Write("a", tone(440, 1000, 0, 960)) // 20 ms: below the 40 ms prebuffer
	m.Mix(out)
	for _, v := range out {
		if v != 0 {
			t.Fatal("unprimed input played")
		}
	}
	m.Write("a", tone(440, 1000, 960, 2*960)) // now 60 ms queued
	m.Mix(out)
	if out[2*10] == 0 {
		t.Fatal("primed input silent")
	}
	m.Mix(out)
	m.Mix(out)
	m.Mix(out) // ran dry: silence and an underrun
	for _, v := range out {
		if v != 0 {
			t.Fatal("dry input not silent")
		}
	}
	if m.Stats("a").Underruns != 1 {
		t.Fatalf("stats %+v", m.Stats("a"))
	}
	// Far ahead: trimmed to 200 ms.
	m.Write("a", tone(440, 1000, 0, 48000))
	if m.Stats("a").Trimmed == 0 {
		t.Fatal("not trimmed")
	}
	m.Remove("a")
	m.Mix(out)
	for _, v := range out {
		if v != 0 {
			t.Fatal("removed input played")
		}
	}
}

func TestWriteOddBytes(t *testing.T) {
	m := New(0, time.Second)
	b := tone(440, 5000, 0, 960)
	m.Write("a", b[:101])
	m.Write("a", b[101:])
	out := make([]int16, FrameSamples)
	m.Mix(out)
	want := int16(binary.LittleEndian.Uint16(b[120:]))
	if out[60] != want || want == 0 {
		t.Fatalf("split write: %d want %d", out[60], want)
	}
}
