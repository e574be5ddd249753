package config

// Realtime configures the WebRTC SFU: subscriber cap, UDP ports, ICE.
type Realtime struct{}

func defaultRealtime() Realtime { return Realtime{} }

// validate reports invalid realtime settings (nil when valid).
func (c Realtime) validate() error { return nil }
