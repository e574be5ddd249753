package config

import (
	"errors"
	"fmt"
	"time"
)

// Compose configures server-side composition (internal/compose).
type Compose struct {
	// IdleTimeout stops a composition after nobody has published on its
	// stage for this long (IVS: 60 s), including a stage empty at start.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxCompositions caps compositions running at once on this node;
	// each costs one encoder and two decoders per publisher.
	MaxCompositions int `yaml:"max_compositions"`
	// X264Preset is the libx264 preset of composition encoders
	// (ultrafast .. veryslow).
	X264Preset string `yaml:"x264_preset"`
	// Background is the canvas colour as RRGGBB hex.
	Background string `yaml:"background"`
	// DecoderNice runs the per-publisher decoders at this nice value
	// (through /usr/bin/nice when present) so that on a busy host the one
	// encoder per composition is not starved by 2 decoders per publisher;
	// 0 disables.
	DecoderNice int `yaml:"decoder_nice"`
}

// maxComposeIdle bounds idle_timeout: a composition left running for
// hours by a typo costs an encoder.
const maxComposeIdle = time.Hour

func defaultCompose() Compose {
	return Compose{IdleTimeout: 60 * time.Second, MaxCompositions: 4, X264Preset: "veryfast", Background: "000000", DecoderNice: 5}
}

// validate reports invalid compose settings (nil when valid).
func (c Compose) validate() error {
	var errs []error
	if c.IdleTimeout < time.Second || c.IdleTimeout > maxComposeIdle {
		errs = append(errs, fmt.Errorf("compose.idle_timeout: %s is not 1s-%s", c.IdleTimeout, maxComposeIdle))
	}
	if c.MaxCompositions < 1 || c.MaxCompositions > 1000 {
		errs = append(errs, fmt.Errorf("compose.max_compositions: %d is not 1-1000", c.MaxCompositions))
	}
	if !x264Presets[c.X264Preset] {
		errs = append(errs, fmt.Errorf("compose.x264_preset: unknown preset %q", c.X264Preset))
	}
	if c.DecoderNice < 0 || c.DecoderNice > 19 {
		errs = append(errs, fmt.Errorf("compose.decoder_nice: %d is not 0-19", c.DecoderNice))
	}
	if len(c.Background) != 6 {
		errs = append(errs, errors.New("compose.background: want RRGGBB hex"))
	} else {
		for _, r := range c.Background {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				errs = append(errs, errors.New("compose.background: want RRGGBB hex"))
				break
			}
		}
	}
	return errors.Join(errs...)
}
