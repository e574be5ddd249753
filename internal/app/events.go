package app

import "context"

// wireEvents builds the event bus and rules; it must set a.Events (nil drops events). It runs before the control services are built.
func (a *App) wireEvents(ctx context.Context) error {
	_ = ctx
	return nil
}
