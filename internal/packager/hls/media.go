package hls

import (
	"math"
	"strconv"
	"time"

	"github.com/stagecast/stagecast/internal/segstore"
)

// MediaOptions describe how to render a rendition playlist.
type MediaOptions struct {
	// LowLatency renders LL-HLS (parts, preload hint, server control).
	LowLatency bool
	Container  segstore.Container
	// PartTarget and SegmentTarget are the packaging targets.
	PartTarget    time.Duration
	SegmentTarget time.Duration
	// Epoch is the stream's token in file names.
	Epoch string
	// Query, when not empty, is appended to every URI after '?' (already
	// escaped, e.g. "token=..."), so private playback works with players
	// that do not propagate query strings.
	Query string
	// Reports are the channel's other renditions, listed as
	// EXT-X-RENDITION-REPORT (LL-HLS) so players switch without a
	// blocking round trip.
	Reports []Report
}

// Report is the live edge of another rendition.
type Report struct {
	URI      string // relative, e.g. "../1080p60/playlist.m3u8"
	LastMSN  uint64
	LastPart int
}

// ReportOf returns the rendition report of a snapshot (ok false when it
// has no part yet).
func ReportOf(uri string, s *segstore.Snapshot) (Report, bool) {
	for i := len(s.Segments) - 1; i >= 0; i-- {
		if seg := s.Segments[i]; len(seg.Parts) > 0 {
			return Report{URI: uri, LastMSN: seg.MSN, LastPart: len(seg.Parts) - 1}, true
		}
	}
	return Report{}, false
}

// partWindowTargets: parts are listed for the segments within this many
// target durations of the live edge (the LL-HLS spec asks for at least
// three).
const partWindowTargets = 3

// TargetDuration returns EXT-X-TARGETDURATION for a snapshot: the segment
// target or the longest segment seen, rounded up to whole seconds.
func TargetDuration(s *segstore.Snapshot, o MediaOptions) int {
	d := max(o.SegmentTarget, s.MaxSegment)
	for _, seg := range s.Segments {
		if seg.Complete {
			d = max(d, seg.Duration)
		}
	}
	return int(math.Ceil(d.Seconds() - 1e-9))
}

func appendSeconds(b []byte, d time.Duration, prec int) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', prec, 64)
}

func (o MediaOptions) appendQuery(b []byte) []byte {
	if o.Query == "" {
		return b
	}
	b = append(b, '?')
	return append(b, o.Query...)
}

// AppendMedia appends the media playlist of snapshot s.
func AppendMedia(b []byte, s *segstore.Snapshot, o MediaOptions) []byte {
	td := TargetDuration(s, o)
	ver := 6
	if o.LowLatency {
		ver = 9
	} else if o.Container == segstore.TS {
		ver = 3
	}
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(ver), 10)
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(td), 10)
	b = append(b, '\n')
	if o.LowLatency {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="...)
		b = appendSeconds(b, 3*o.PartTarget, 3)
		b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
		b = appendSeconds(b, o.PartTarget, 3)
		b = append(b, '\n')
	}
	segs := s.Segments
	// A segment opened but still without parts has nothing to list yet.
	if n := len(segs); n > 0 && !segs[n-1].Complete && len(segs[n-1].Parts) == 0 {
		segs = segs[:n-1]
	}
	if !o.LowLatency {
		// Plain HLS lists complete segments only.
		for len(segs) > 0 && !segs[len(segs)-1].Complete {
			segs = segs[:len(segs)-1]
		}
	}
	first := uint64(0)
	if len(segs) > 0 {
		first = segs[0].MSN
	}
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, first, 10)
	b = append(b, '\n')
	if s.DiscontinuitySeq > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendUint(b, s.DiscontinuitySeq, 10)
		b = append(b, '\n')
	}
	b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)

	// Segments from partFrom on list their parts.
	partFrom := len(segs)
	if o.LowLatency {
		var acc time.Duration
		limit := time.Duration(partWindowTargets*td) * time.Second
		for i := len(segs) - 1; i >= 0; i-- {
			if i < len(segs)-1 && acc >= limit {
				break
			}
			acc += segs[i].Duration
			partFrom = i
		}
	}
	mapGen := -1
	for i, seg := range segs {
		if seg.Discontinuity {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if o.Container == segstore.FMP4 && seg.Init != mapGen {
			b = append(b, "#EXT-X-MAP:URI=\""...)
			b = AppendInitName(b, o.Epoch, seg.Init)
			b = o.appendQuery(b)
			b = append(b, "\"\n"...)
			mapGen = seg.Init
		}
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = seg.ProgramDateTime.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '\n')
		if i >= partFrom {
			for _, p := range seg.Parts {
				b = append(b, "#EXT-X-PART:DURATION="...)
				b = appendSeconds(b, p.Duration, 5)
				b = append(b, ",URI=\""...)
				b = AppendPartName(b, o.Epoch, seg.MSN, p.Index, o.Container)
				b = o.appendQuery(b)
				b = append(b, '"')
				if p.Independent {
					b = append(b, ",INDEPENDENT=YES"...)
				}
				b = append(b, '\n')
			}
		}
		if seg.Complete {
			b = append(b, "#EXTINF:"...)
			b = appendSeconds(b, seg.Duration, 5)
			b = append(b, ",\n"...)
			b = AppendSegmentName(b, o.Epoch, seg.MSN, o.Container)
			b = o.appendQuery(b)
			b = append(b, '\n')
		}
	}
	if s.Ended {
		return append(b, "#EXT-X-ENDLIST\n"...)
	}
	if o.LowLatency && len(s.Segments) > 0 {
		last := s.Segments[len(s.Segments)-1]
		msn, idx := last.MSN, len(last.Parts)
		if last.Complete {
			msn, idx = msn+1, 0
		}
		b = append(b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""...)
		b = AppendPartName(b, o.Epoch, msn, idx, o.Container)
		b = o.appendQuery(b)
		b = append(b, "\"\n"...)
		for _, r := range o.Reports {
			b = append(b, "#EXT-X-RENDITION-REPORT:URI=\""...)
			b = append(b, r.URI...)
			b = o.appendQuery(b)
			b = append(b, "\",LAST-MSN="...)
			b = strconv.AppendUint(b, r.LastMSN, 10)
			b = append(b, ",LAST-PART="...)
			b = strconv.AppendInt(b, int64(r.LastPart), 10)
			b = append(b, '\n')
		}
	}
	return b
}
