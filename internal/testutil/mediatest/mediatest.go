package mediatest

import (
	"fmt"
	"os/exec"
)

// TestPatternTS returns seconds of 1280x720 30 fps H.264 (1 s GOP, x264
// zerolatency) with a 440 Hz 48 kHz AAC tone, as MPEG-TS bytes.
func TestPatternTS(seconds int) ([]byte, error) {
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k", "-f", "mpegts", "-").Output()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg test pattern: %w", err)
	}
	return out, nil
}
