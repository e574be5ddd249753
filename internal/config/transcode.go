package config

import (
	"errors"
	"fmt"
	"time"
)

// Transcode configures the ffmpeg binaries and how their processes are
// supervised (internal/transcode).
type Transcode struct {
	// FFmpeg and FFprobe are the binaries to run: a name looked up in PATH
	// or an absolute path.
	FFmpeg  string `yaml:"ffmpeg"`
	FFprobe string `yaml:"ffprobe"`
	// StopGrace is how long a process asked to stop (SIGINT) may take to
	// exit before it is killed (SIGKILL).
	StopGrace time.Duration `yaml:"stop_grace"`
	// RestartMin is the delay before the first restart of a process that
	// died; it doubles on each quick death up to RestartMax. A process that
	// ran for at least RestartMax starts the sequence again.
	RestartMin time.Duration `yaml:"restart_min"`
	RestartMax time.Duration `yaml:"restart_max"`
	// StderrLines is how many stderr lines of one process are logged per
	// StderrWindow; the rest are counted and reported once per window.
	StderrLines  int           `yaml:"stderr_lines"`
	StderrWindow time.Duration `yaml:"stderr_window"`
	// X264Preset is the libx264 preset of the ladder encoder (ultrafast ..
	// veryslow); veryfast by default.
	X264Preset string `yaml:"x264_preset"`
	// Threads limits ffmpeg's threads per process; 0 lets ffmpeg choose.
	Threads int `yaml:"threads"`
}

func defaultTranscode() Transcode {
	return Transcode{
		FFmpeg:       "ffmpeg",
		FFprobe:      "ffprobe",
		StopGrace:    5 * time.Second,
		RestartMin:   500 * time.Millisecond,
		RestartMax:   30 * time.Second,
		StderrLines:  20,
		StderrWindow: 10 * time.Second,
		X264Preset:   "veryfast",
	}
}

var x264Presets = map[string]bool{
	"ultrafast": true, "superfast": true, "veryfast": true, "faster": true, "fast": true,
	"medium": true, "slow": true, "slower": true, "veryslow": true,
}

// validate reports invalid transcode settings (nil when valid).
func (c Transcode) validate() error {
	var errs []error
	if c.FFmpeg == "" {
		errs = append(errs, errors.New("transcode.ffmpeg must not be empty"))
	}
	if c.FFprobe == "" {
		errs = append(errs, errors.New("transcode.ffprobe must not be empty"))
	}
	if c.StopGrace <= 0 {
		errs = append(errs, fmt.Errorf("transcode.stop_grace %v must be positive", c.StopGrace))
	}
	if c.RestartMin <= 0 || c.RestartMin > 2*time.Second {
		errs = append(errs, fmt.Errorf("transcode.restart_min %v must be in (0, 2s]", c.RestartMin))
	}
	if c.RestartMax < c.RestartMin {
		errs = append(errs, fmt.Errorf("transcode.restart_max %v must be at least restart_min", c.RestartMax))
	}
	if c.StderrLines < 0 || c.StderrWindow <= 0 {
		errs = append(errs, fmt.Errorf("transcode.stderr_lines %d / stderr_window %v must be >= 0 / positive", c.StderrLines, c.StderrWindow))
	}
	if !x264Presets[c.X264Preset] {
		errs = append(errs, fmt.Errorf("transcode.x264_preset %q is not a libx264 preset", c.X264Preset))
	}
	if c.Threads < 0 {
		errs = append(errs, fmt.Errorf("transcode.threads %d must not be negative", c.Threads))
	}
	return errors.Join(errs...)
}
