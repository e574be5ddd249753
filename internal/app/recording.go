package app

import "context"

// wireRecording builds channel recording to a local directory or S3.
func (a *App) wireRecording(ctx context.Context) error {
	_ = ctx
	return nil
}
