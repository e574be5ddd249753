package transcode

import (
	"fmt"
	"math"
)

// Channel types and transcode presets, as the IVS API spells them.
const (
	TypeBasic      = "BASIC"
	TypeStandard   = "STANDARD"
	TypeAdvancedSD = "ADVANCED_SD"
	TypeAdvancedHD = "ADVANCED_HD"

	PresetHigher      = "HIGHER_BANDWIDTH_DELIVERY"
	PresetConstrained = "CONSTRAINED_BANDWIDTH_DELIVERY"
)

// Source describes the input a ladder is planned for.
type Source struct {
	Width, Height int
	// FPS is the source frame rate (0 = unknown, taken as 30).
	FPS float64
	// HasVideo is false for an audio-only source (no ladder).
	HasVideo bool
}

// Rendition is one quality level of a channel's output.
type Rendition struct {
	// Name is the IVS-style name: "720p30", "480p30", "160p30".
	Name string
	// Passthrough renditions are the source itself (no transcoding): the
	// ladder hands out the source hub for them.
	Passthrough bool

	Width, Height int
	FPS           int
	// VideoBitrate is the target in bits per second (0 for passthrough).
	VideoBitrate int
	// AudioBitrate in bits per second; 0 copies the source audio.
	AudioBitrate int
	// Profile and Level of the H.264 output ("main", "3.1").
	Profile, Level string
}

// rung is one step of a preset ladder before it is fitted to the source.
type rung struct {
	height       int
	maxFPS       int
	videoBitrate int // at 30 fps
	video60      int // at 60 fps (when maxFPS is 60)
	audioBitrate int // 0 = copy the source audio
	profile      string
}

// Ladders per channel type and preset. IVS documents which renditions each
// channel type produces (STANDARD: the source up to 1080p plus 720p, 480p,
// 360p and 160p, audio transcoded for 360p and below; ADVANCED_HD: capped
// at 720p, ADVANCED_SD: capped at 480p, every rendition transcoded with
// its audio; BASIC: the source only). The bitrates are ours: CONSTRAINED
// below STANDARD, HIGHER above it, as the preset descriptions say.
var (
	standardLadder = []rung{
		{height: 720, maxFPS: 60, videoBitrate: 2500_000, video60: 3500_000, audioBitrate: 0, profile: "high"},
		{height: 480, maxFPS: 30, videoBitrate: 1200_000, audioBitrate: 0, profile: "main"},
		{height: 360, maxFPS: 30, videoBitrate: 630_000, audioBitrate: 96_000, profile: "main"},
		{height: 160, maxFPS: 30, videoBitrate: 230_000, audioBitrate: 64_000, profile: "main"},
	}
	advancedHDHigher = []rung{
		{height: 720, maxFPS: 60, videoBitrate: 3000_000, video60: 4500_000, audioBitrate: 128_000, profile: "high"},
		{height: 480, maxFPS: 30, videoBitrate: 1500_000, audioBitrate: 128_000, profile: "main"},
		{height: 360, maxFPS: 30, videoBitrate: 800_000, audioBitrate: 96_000, profile: "main"},
		{height: 160, maxFPS: 30, videoBitrate: 300_000, audioBitrate: 64_000, profile: "main"},
	}
	advancedHDConstrained = []rung{
		{height: 720, maxFPS: 60, videoBitrate: 1800_000, video60: 2500_000, audioBitrate: 96_000, profile: "high"},
		{height: 480, maxFPS: 30, videoBitrate: 900_000, audioBitrate: 96_000, profile: "main"},
		{height: 360, maxFPS: 30, videoBitrate: 450_000, audioBitrate: 64_000, profile: "main"},
		{height: 160, maxFPS: 30, videoBitrate: 160_000, audioBitrate: 48_000, profile: "main"},
	}
	advancedSDHigher = []rung{
		{height: 480, maxFPS: 30, videoBitrate: 1500_000, audioBitrate: 128_000, profile: "main"},
		{height: 360, maxFPS: 30, videoBitrate: 800_000, audioBitrate: 96_000, profile: "main"},
		{height: 160, maxFPS: 30, videoBitrate: 300_000, audioBitrate: 64_000, profile: "main"},
	}
	advancedSDConstrained = []rung{
		{height: 480, maxFPS: 30, videoBitrate: 900_000, audioBitrate: 96_000, profile: "main"},
		{height: 360, maxFPS: 30, videoBitrate: 450_000, audioBitrate: 64_000, profile: "main"},
		{height: 160, maxFPS: 30, videoBitrate: 160_000, audioBitrate: 48_000, profile: "main"},
	}
)

// Plan returns the renditions of a channel of the given type and preset
// for a source, highest first. It never scales above the source. STANDARD
// and BASIC start with the source itself (Passthrough); ADVANCED types
// transcode every rendition. An empty preset means HIGHER for ADVANCED
// types (the IVS default). An audio-only source gets the passthrough
// rendition only.
func Plan(channelType, preset string, src Source) ([]Rendition, error) {
	var ladder []rung
	passthrough := false
	switch channelType {
	case TypeBasic:
		passthrough = true
	case TypeStandard, "":
		passthrough, ladder = true, standardLadder
	case TypeAdvancedHD, TypeAdvancedSD:
		hd := channelType == TypeAdvancedHD
		switch preset {
		case PresetHigher, "":
			ladder = map[bool][]rung{true: advancedHDHigher, false: advancedSDHigher}[hd]
		case PresetConstrained:
			ladder = map[bool][]rung{true: advancedHDConstrained, false: advancedSDConstrained}[hd]
		default:
			return nil, fmt.Errorf("unknown transcode preset %q", preset)
		}
	default:
		return nil, fmt.Errorf("unknown channel type %q", channelType)
	}
	if !src.HasVideo || src.Height <= 0 || src.Width <= 0 {
		return []Rendition{sourceRendition(src)}, nil
	}
	if !passthrough && src.Height < ladder[len(ladder)-1].height {
		// Smaller than the lowest rung: transcode at the source size.
		r := ladder[len(ladder)-1]
		r.height = src.Height
		ladder = []rung{r}
	}
	var out []Rendition
	if passthrough {
		out = append(out, sourceRendition(src))
	}
	for _, r := range ladder {
		// A passthrough source already covers its own height; transcoded
		// ladders include the rung equal to the source.
		if r.height > src.Height || (passthrough && r.height == src.Height) {
			continue
		}
		out = append(out, fitRung(r, src))
	}
	return out, nil
}

func sourceFPS(src Source) float64 {
	if src.FPS <= 0 {
		return 30
	}
	return src.FPS
}

func sourceRendition(src Source) Rendition {
	fps := int(math.Round(sourceFPS(src)))
	name := "audio_only"
	if src.HasVideo && src.Height > 0 {
		name = fmt.Sprintf("%dp%d", src.Height, fps)
	}
	return Rendition{Name: name, Passthrough: true, Width: src.Width, Height: src.Height, FPS: fps}
}

func fitRung(r rung, src Source) Rendition {
	fps := int(math.Round(min(sourceFPS(src), float64(r.maxFPS))))
	bitrate := r.videoBitrate
	if fps > 30 && r.video60 > 0 {
		bitrate = r.video60
	}
	// Keep the source aspect ratio; both sides even for 4:2:0.
	w := int(math.Round(float64(src.Width)*float64(r.height)/float64(src.Height)/2)) * 2
	return Rendition{
		Name:         fmt.Sprintf("%dp%d", r.height, fps),
		Width:        max(w, 2),
		Height:       r.height,
		FPS:          fps,
		VideoBitrate: bitrate,
		AudioBitrate: r.audioBitrate,
		Profile:      r.profile,
		Level:        h264Level(w, r.height, fps),
	}
}

// h264Level picks the lowest H.264 level whose macroblock rate and frame
// size limits hold the rendition (Table A-1).
func h264Level(w, h, fps int) string {
	mbs := ((w + 15) / 16) * ((h + 15) / 16)
	rate := mbs * fps
	levels := []struct {
		name          string
		maxFS, maxMBs int
	}{
		{"3.0", 1620, 40500},
		{"3.1", 3600, 108000},
		{"3.2", 5120, 216000},
		{"4.0", 8192, 245760},
		{"4.2", 8704, 522240},
		{"5.1", 36864, 983040},
	}
	for _, l := range levels {
		if mbs <= l.maxFS && rate <= l.maxMBs {
			return l.name
		}
	}
	return "5.2"
}

// Transcoded returns the renditions that need encoding (not passthrough).
func Transcoded(plan []Rendition) []Rendition {
	var out []Rendition
	for _, r := range plan {
		if !r.Passthrough {
			out = append(out, r)
		}
	}
	return out
}

// ThumbnailHeight maps an IVS thumbnail resolution (SD, HD, FULL_HD,
// LOWEST_RESOLUTION, or "" for the source) to a picture height, never above
// the source's.
func ThumbnailHeight(resolution string, sourceHeight int) (int, error) {
	var h int
	switch resolution {
	case "":
		return sourceHeight, nil
	case "SD":
		h = 480
	case "HD":
		h = 720
	case "FULL_HD":
		h = 1080
	case "LOWEST_RESOLUTION":
		h = 160
	default:
		return 0, fmt.Errorf("unknown thumbnail resolution %q", resolution)
	}
	if sourceHeight > 0 {
		h = min(h, sourceHeight)
	}
	return h, nil
}
