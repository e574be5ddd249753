// Package obs sets up observability: the slog logger (text or JSON, level
// from config, a "component" attribute per subsystem). Secrets never reach
// it: secret values are auth.Secret, which redacts itself.
//
// No goroutines.
package obs
