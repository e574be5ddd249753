package config

// Recording configures where recordings go: a local directory by default, or an S3-compatible server.
type Recording struct{}

func defaultRecording() Recording { return Recording{} }

// validate reports invalid recording settings (nil when valid).
func (c Recording) validate() error { return nil }
