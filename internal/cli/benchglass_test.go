package cli

import (
	"testing"
	"time"
)

func TestTimeCodeRoundTrip(t *testing.T) {
	pic := make([]byte, glassW*glassH)
	for _, ms := range []int64{0, 1, time.Now().UnixMilli(), 1<<47 - 1} {
		drawTime(pic, ms)
		if got := readTime(pic); got != ms {
			t.Fatalf("drew %d, read %d", ms, got)
		}
	}
	// Encoding noise near the threshold does not flip bits.
	drawTime(pic, 0x5555_5555_5555)
	for i := range pic {
		if pic[i] == 255 {
			pic[i] = 200
		} else {
			pic[i] = 40
		}
	}
	if got := readTime(pic); got != 0x5555_5555_5555 {
		t.Fatalf("noisy picture read as %x", got)
	}
}
