package control

import (
	"context"
	"log/slog"
	"time"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/store"
)

// Publisher receives state-change events (EventBridge-shaped) from the
// control plane. Publish must not block: implementations queue or drop.
type Publisher interface {
	Publish(ctx context.Context, detailType string, resources []string, detail map[string]any)
}

// Deps are what service implementations need.
type Deps struct {
	Store    store.Store
	Identity model.Identity
	Log      *slog.Logger
	// Now is the clock (tests replace it); nil means time.Now.
	Now func() time.Time
	// Events receives state-change events; nil drops them.
	Events Publisher
}

// Clock returns the current time in UTC.
func (d Deps) Clock() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// Logger returns the logger, never nil.
func (d Deps) Logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Publish sends an event when a publisher is configured.
func (d Deps) Publish(ctx context.Context, detailType string, resources []string, detail map[string]any) {
	if d.Events != nil {
		d.Events.Publish(ctx, detailType, resources, detail)
	}
}
