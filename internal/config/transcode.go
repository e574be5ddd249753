package config

// Transcode configures ffmpeg path and supervision of transcoding processes.
type Transcode struct{}

func defaultTranscode() Transcode { return Transcode{} }

// validate reports invalid transcode settings (nil when valid).
func (c Transcode) validate() error { return nil }
