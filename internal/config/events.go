package config

// Events configures the event bus, rules, webhooks and their delivery.
type Events struct{}

func defaultEvents() Events { return Events{} }

// validate reports invalid events settings (nil when valid).
func (c Events) validate() error { return nil }
