package media

import (
	"testing"
	"time"
)

func TestDurationTicksRoundTrip(t *testing.T) {
	cases := []struct {
		ticks int64
		rate  int
		want  time.Duration
	}{
		{90000, 90000, time.Second},
		{3003, 90000, 33366666 * time.Nanosecond},
		{1024, 48000, 21333333 * time.Nanosecond},
		{90000 * 3600 * 30, 90000, 30 * time.Hour},
	}
	for _, c := range cases {
		if got := Duration(c.ticks, c.rate); got != c.want {
			t.Errorf("Duration(%d, %d) = %v, want %v", c.ticks, c.rate, got, c.want)
		}
	}
	if got := Ticks(2*time.Second, 48000); got != 96000 {
		t.Errorf("Ticks(2s, 48000) = %d", got)
	}
	if Duration(5, 0) != 0 {
		t.Error("zero clock rate must give 0")
	}
}

func TestUnitSize(t *testing.T) {
	u := &Unit{NALUs: [][]byte{make([]byte, 3), make([]byte, 4)}, Payload: []byte{1}}
	if u.Size() != 8 {
		t.Fatalf("size %d", u.Size())
	}
	if (Track{Kind: Video, Codec: H264, Width: 1280, Height: 720}).String() != "video avc1 1280x720" {
		t.Fatal("track string")
	}
}

func TestClockJumped(t *testing.T) {
	for step, want := range map[time.Duration]bool{
		33 * time.Millisecond:   false, // a frame
		-40 * time.Millisecond:  false, // jitter
		5 * time.Second:         false, // a long stall, still the same clock
		5*time.Second + 1:       true,
		-500 * time.Millisecond: false,
		-501 * time.Millisecond: true,
		-10 * time.Hour:         true, // the encoder restarted its clock
	} {
		if got := ClockJumped(step); got != want {
			t.Errorf("ClockJumped(%s) = %v, want %v", step, got, want)
		}
	}
}
