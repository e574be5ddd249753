package app

import "context"

// wireLive builds ingest (RTMP, RTMPS, SRT), live sessions, packaging and the playback origin.
func (a *App) wireLive(ctx context.Context) error {
	_ = ctx
	return nil
}
