package recording

import (
	"fmt"
	"slices"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
)

// streamPlan is what a recording configuration asks of one stream: the
// renditions to record and the one to take thumbnails from.
type streamPlan struct {
	record []Rendition
	thumb  *thumbPlan
}

type thumbPlan struct {
	rendition  Rendition
	every      time.Duration
	sequential bool
	latest     bool
}

// Rendition classes of renditionConfiguration.renditions and
// thumbnailConfiguration.resolution, by picture height: FULL_HD is the
// highest rendition of 1080 lines or more, HD the highest of 720-1079, SD
// the highest below 720, LOWEST_RESOLUTION the lowest.
func pickClass(rs []Rendition, class string) (Rendition, bool) {
	var best Rendition
	found := false
	for _, r := range rs {
		var in bool
		switch class {
		case ivsapi.RenditionConfigurationRenditionFullHd:
			in = r.Height >= 1080
		case ivsapi.RenditionConfigurationRenditionHd:
			in = r.Height >= 720 && r.Height < 1080
		case ivsapi.RenditionConfigurationRenditionSd:
			in = r.Height < 720
		case ivsapi.RenditionConfigurationRenditionLowestResolution:
			if !found || r.Height < best.Height {
				best, found = r, true
			}
			continue
		}
		if in && (!found || r.Height > best.Height) {
			best, found = r, true
		}
	}
	return best, found
}

// source is the highest rendition (the source picture on every ladder).
func source(rs []Rendition) (Rendition, bool) {
	var best Rendition
	found := false
	for _, r := range rs {
		if !found || r.Height > best.Height {
			best, found = r, true
		}
	}
	return best, found
}

func planStream(rc *ivsapi.RecordingConfiguration, rs []Rendition) streamPlan {
	var p streamPlan
	var usable []Rendition
	for _, r := range rs {
		if r.Hub != nil && validRenditionName(r.Name) && !slices.ContainsFunc(usable, func(x Rendition) bool { return x.Name == r.Name }) {
			usable = append(usable, r)
		}
	}
	sel := ivsapi.RenditionConfigurationRenditionSelectionAll
	var classes []string
	if rc.RenditionConfiguration != nil {
		if s := deref(rc.RenditionConfiguration.RenditionSelection); s != "" {
			sel = s
		}
		classes = rc.RenditionConfiguration.Renditions
	}
	switch sel {
	case ivsapi.RenditionConfigurationRenditionSelectionAll:
		p.record = usable
	case ivsapi.RenditionConfigurationRenditionSelectionCustom:
		for _, c := range classes {
			if r, ok := pickClass(usable, c); ok && !slices.ContainsFunc(p.record, func(x Rendition) bool { return x.Name == r.Name }) {
				p.record = append(p.record, r)
			}
		}
	}
	slices.SortStableFunc(p.record, func(a, b Rendition) int { return b.Height - a.Height })

	tc := rc.ThumbnailConfiguration
	mode := ivsapi.RecordingModeInterval
	every := 60 * time.Second
	storage := []string{ivsapi.ThumbnailConfigurationStorageSequential}
	res := ""
	if tc != nil {
		if s := deref(tc.RecordingMode); s != "" {
			mode = s
		}
		if tc.TargetIntervalSeconds != nil && *tc.TargetIntervalSeconds > 0 {
			every = time.Duration(*tc.TargetIntervalSeconds) * time.Second
		}
		if len(tc.Storage) > 0 {
			storage = tc.Storage
		}
		res = deref(tc.Resolution)
	}
	if mode != ivsapi.RecordingModeInterval {
		return p
	}
	r, ok := pickClass(usable, res)
	if res == "" || !ok {
		r, ok = source(usable)
	}
	if ok {
		p.thumb = &thumbPlan{rendition: r, every: every,
			sequential: slices.Contains(storage, ivsapi.ThumbnailConfigurationStorageSequential),
			latest:     slices.Contains(storage, ivsapi.ThumbnailConfigurationStorageLatest)}
	}
	return p
}

// maxRenditionName bounds a rendition name (a path element of every key).
const maxRenditionName = 64

// validRenditionName accepts names that are safe as one key path element:
// letters, digits, '-', '_' and '.', not "." or "..".
func validRenditionName(n string) bool {
	if n == "" || len(n) > maxRenditionName || n == "." || n == ".." {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// codecsOf returns the RFC 6381 CODECS attribute of a stream's tracks, ""
// when a codec's parameters are unknown.
func codecsOf(tracks []media.Track) string {
	var out []string
	for _, t := range tracks {
		switch {
		case t.Codec == media.H264 && len(t.SPS) >= 4:
			out = append(out, fmt.Sprintf("avc1.%02x%02x%02x", t.SPS[1], t.SPS[2], t.SPS[3]))
		case t.Codec == media.AAC && len(t.AACConfig) > 0:
			var c mpeg4audio.Config
			if c.Unmarshal(t.AACConfig) != nil {
				return ""
			}
			out = append(out, fmt.Sprintf("mp4a.40.%d", int(c.Type)))
		case t.Kind == media.Video || t.Codec == media.AAC:
			return ""
		}
	}
	if len(out) == 0 {
		return ""
	}
	s := out[0]
	for _, c := range out[1:] {
		s += "," + c
	}
	return s
}

// estimateBandwidth guesses a rendition's bandwidth from its picture size
// (about 3 bits per pixel per second: 2.8 Mbit/s at 720p) until segments
// measure it.
func estimateBandwidth(r Rendition) int {
	if r.Bandwidth > 0 {
		return r.Bandwidth
	}
	if r.Width > 0 && r.Height > 0 {
		return r.Width*r.Height*3 + 128_000
	}
	return 2_000_000
}
