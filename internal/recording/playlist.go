package recording

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// mediaPlaylist is one rendition's playlist. It only ever grows: a segment
// is listed once its object is stored, so every listed segment exists.
type mediaPlaylist struct {
	target  time.Duration
	entries []playlistEntry
	ended   bool
	gap     bool // a segment was lost since the last one listed
	// bytes and total measure the rendition's bandwidth for the master.
	bytes int64
	total time.Duration
	peak  float64 // bits per second of the largest segment
}

type playlistEntry struct {
	name          string
	duration      time.Duration
	discontinuity bool
}

func (p *mediaPlaylist) add(name string, seg *segment) {
	p.entries = append(p.entries, playlistEntry{name, seg.duration, seg.discontinuity})
	p.bytes += int64(len(seg.data))
	p.total += seg.duration
	if s := seg.duration.Seconds(); s > 0.5 {
		p.peak = max(p.peak, float64(len(seg.data))*8/s)
	}
}

// render writes the playlist: EVENT while recording, VOD with
// EXT-X-ENDLIST once ended.
func (p *mediaPlaylist) render() []byte {
	target := int(math.Ceil(p.target.Seconds()))
	for _, e := range p.entries {
		target = max(target, int(math.Round(e.duration.Seconds())))
	}
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n", target)
	if p.ended {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	} else {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
	}
	for i, e := range p.entries {
		if e.discontinuity && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s\n", e.duration.Seconds(), e.name)
	}
	if p.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String())
}

// variant is one rendition in the master playlist.
type variant struct {
	path          string // directory relative to the master
	width, height int
	bandwidth     int
	codecs        string
}

// renderMaster writes the multivariant playlist, highest bandwidth first.
func renderMaster(vs []variant) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, v := range vs {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d", max(v.bandwidth, 1))
		if v.width > 0 && v.height > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", v.width, v.height)
		}
		if v.codecs != "" {
			fmt.Fprintf(&b, ",CODECS=\"%s\"", v.codecs)
		}
		fmt.Fprintf(&b, "\n%s/%s\n", v.path, renditionPlaylist)
	}
	return []byte(b.String())
}
