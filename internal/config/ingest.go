package config

// Ingest configures RTMP/RTMPS/SRT ingest: TLS certificate, reconnect window, limits.
type Ingest struct{}

func defaultIngest() Ingest { return Ingest{} }

// validate reports invalid ingest settings (nil when valid).
func (c Ingest) validate() error { return nil }
