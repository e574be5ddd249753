package app

import "context"

// wireCompose builds server-side composition (stages.SetCompositor).
func (a *App) wireCompose(ctx context.Context) error {
	_ = ctx
	return nil
}
