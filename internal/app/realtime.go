package app

import "context"

// wireRealtime builds the WebRTC SFU, WHIP, stage events and the stage page.
func (a *App) wireRealtime(ctx context.Context) error {
	_ = ctx
	return nil
}
