package compose

import (
	"log/slog"
	"time"

	"github.com/stagecast/stagecast/internal/config"
)

func compCfg() config.Compose {
	return config.Compose{IdleTimeout: 5 * time.Second, MaxCompositions: 4, X264Preset: "ultrafast", Background: "000000"}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
