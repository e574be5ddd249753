package hls

import (
	"strconv"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/segstore"
)

// Variant is one EXT-X-STREAM-INF entry.
type Variant struct {
	// Name is the rendition name ("720p30"); for a video variant it is
	// announced as IVS does, an EXT-X-MEDIA TYPE=VIDEO group named after
	// it (NAME="720p"), which is what players list as qualities.
	Name string
	// URI of the rendition playlist, relative to the multivariant
	// playlist, query included.
	URI           string
	Bandwidth     int
	Codecs        string
	Width, Height int
	FrameRate     float64
}

// fallbackBandwidth is announced before a rendition has a measurable
// segment and no bandwidth was configured.
const fallbackBandwidth = 1_000_000

// VariantOf describes rendition r from its info and its measured
// segments. uri is the playlist URI to list.
func VariantOf(r *segstore.Rendition, uri string) Variant {
	info := r.Info()
	v := Variant{Name: r.Name(), URI: uri, Bandwidth: info.Bandwidth, FrameRate: info.FrameRate, Codecs: Codecs(info.Tracks)}
	for _, t := range info.Tracks {
		if t.Kind == media.Video {
			v.Width, v.Height = Resolution(t)
		}
	}
	s := r.Snapshot()
	var frames int
	var dur float64
	peak := 0.0
	for _, seg := range s.Segments {
		if !seg.Complete || seg.Duration <= 0 {
			continue
		}
		frames += seg.Frames
		dur += seg.Duration.Seconds()
		peak = max(peak, float64(seg.Size*8)/seg.Duration.Seconds())
	}
	if peak == 0 {
		if l := s.Last(); l != nil && l.Duration > 0 {
			peak = float64(l.Size*8) / l.Duration.Seconds()
		}
	}
	if v.Bandwidth <= 0 {
		v.Bandwidth = int(peak * 1.1)
		if v.Bandwidth <= 0 {
			v.Bandwidth = fallbackBandwidth
		}
	}
	if v.FrameRate <= 0 && dur > 0 && frames > 0 {
		v.FrameRate = float64(frames) / dur
	}
	return v
}

// Codecs returns the RFC 6381 CODECS value of tracks.
func Codecs(tracks []media.Track) string {
	out := ""
	for _, t := range tracks {
		c := codecString(t)
		if c == "" {
			continue
		}
		if out != "" {
			out += ","
		}
		out += c
	}
	return out
}

func codecString(t media.Track) string {
	var c codecs.Codec
	switch t.Codec {
	case media.H264:
		if len(t.SPS) < 4 {
			return "avc1.640028"
		}
		c = &codecs.H264{SPS: t.SPS, PPS: t.PPS}
	case media.H265:
		if len(t.SPS) == 0 {
			return "hvc1.1.6.L120.90"
		}
		c = &codecs.H265{VPS: t.VPS, SPS: t.SPS, PPS: t.PPS}
	case media.AV1:
		if len(t.AV1Config) == 0 {
			return "av01.0.08M.08"
		}
		c = &codecs.AV1{SequenceHeader: t.AV1Config}
	case media.AAC:
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(t.AACConfig); err != nil {
			return "mp4a.40.2"
		}
		c = &codecs.MPEG4Audio{Config: conf}
	case media.Opus:
		return "opus"
	default:
		return ""
	}
	return codecparams.Marshal(c)
}

// Resolution returns a video track's picture size, from the track or its
// SPS.
func Resolution(t media.Track) (int, int) {
	if t.Width > 0 && t.Height > 0 {
		return t.Width, t.Height
	}
	switch t.Codec {
	case media.H264:
		var sps h264.SPS
		if sps.Unmarshal(t.SPS) == nil {
			return sps.Width(), sps.Height()
		}
	case media.H265:
		var sps h265.SPS
		if sps.Unmarshal(t.SPS) == nil {
			return sps.Width(), sps.Height()
		}
	}
	return 0, 0
}

// AppendMultivariant appends the multivariant playlist listing vs.
func AppendMultivariant(b []byte, vs []Variant) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	for _, v := range vs {
		named := v.Name != "" && v.Height > 0 // audio-only variants have no video group
		if named {
			b = append(b, "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\""...)
			b = append(b, v.Name...)
			b = append(b, "\",NAME=\""...)
			b = append(b, displayName(v)...)
			b = append(b, "\",AUTOSELECT=YES,DEFAULT=YES\n"...)
		}
		b = append(b, "#EXT-X-STREAM-INF:BANDWIDTH="...)
		b = strconv.AppendInt(b, int64(v.Bandwidth), 10)
		if v.Width > 0 && v.Height > 0 {
			b = append(b, ",RESOLUTION="...)
			b = strconv.AppendInt(b, int64(v.Width), 10)
			b = append(b, 'x')
			b = strconv.AppendInt(b, int64(v.Height), 10)
		}
		if v.Codecs != "" {
			b = append(b, ",CODECS=\""...)
			b = append(b, v.Codecs...)
			b = append(b, '"')
		}
		if named {
			b = append(b, ",VIDEO=\""...)
			b = append(b, v.Name...)
			b = append(b, '"')
		}
		if v.FrameRate > 0 {
			b = append(b, ",FRAME-RATE="...)
			b = strconv.AppendFloat(b, v.FrameRate, 'f', 3, 64)
		}
		b = append(b, '\n')
		b = append(b, v.URI...)
		b = append(b, '\n')
	}
	return b
}

// displayName is what IVS shows as a quality: "720p" for a 720p30
// rendition.
func displayName(v Variant) string { return strconv.Itoa(v.Height) + "p" }
