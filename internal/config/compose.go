package config

// Compose configures server-side composition: idle timeout, encoder defaults.
type Compose struct{}

func defaultCompose() Compose { return Compose{} }

// validate reports invalid compose settings (nil when valid).
func (c Compose) validate() error { return nil }
