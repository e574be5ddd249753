package origin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/stagecast/stagecast/internal/packager/hls"
	"github.com/stagecast/stagecast/internal/segstore"
)

// media serves an init segment, a segment or a part.
func (o *Origin) media(w http.ResponseWriter, r *http.Request, ch *segstore.Channel, rd *segstore.Rendition, file string) {
	n, err := hls.ParseName(file)
	if err != nil || n.Epoch != ch.Epoch() || n.TS != (ch.Container() == segstore.TS) && n.Kind != hls.KindInit {
		o.fail(w, http.StatusNotFound, "no such media (stream restarted?)", true)
		return
	}
	ct := hvMP4
	if n.TS {
		ct = hvTS
	}
	snap := rd.Snapshot()
	switch n.Kind {
	case hls.KindInit:
		data := snap.InitData(n.Gen)
		if data == nil {
			o.fail(w, http.StatusNotFound, "no such init segment", true)
			return
		}
		o.writeParts(w, r, ct, len(data), [][]byte{data})
	case hls.KindPart:
		p := snap.Part(n.MSN, n.Part)
		if p == nil {
			// The preload hint names the next part: hold the request
			// until it exists.
			if !isNextPart(snap, n.MSN, n.Part) {
				o.fail(w, http.StatusNotFound, "no such part", true)
				return
			}
			if snap, err = rd.Wait(r.Context(), n.MSN, n.Part, o.timeout); !o.waited(w, err) {
				return
			}
			if p = snap.Part(n.MSN, n.Part); p == nil {
				o.fail(w, http.StatusNotFound, "no such part", true)
				return
			}
		}
		o.writeParts(w, r, ct, len(p.Data), [][]byte{p.Data})
	case hls.KindSegment:
		seg := snap.Segment(n.MSN)
		if seg == nil || !seg.Complete {
			last := snap.Last()
			if last == nil || n.MSN < last.MSN || n.MSN > last.MSN+1 {
				o.fail(w, http.StatusNotFound, "no such segment", true)
				return
			}
			if snap, err = rd.Wait(r.Context(), n.MSN, -1, o.timeout); !o.waited(w, err) {
				return
			}
			if seg = snap.Segment(n.MSN); seg == nil || !seg.Complete {
				o.fail(w, http.StatusNotFound, "no such segment", true)
				return
			}
		}
		bufs := make([][]byte, len(seg.Parts))
		for i, p := range seg.Parts {
			bufs[i] = p.Data
		}
		o.writeParts(w, r, ct, seg.Size, bufs)
	}
}

// isNextPart reports whether (msn, idx) is the part after the live edge
// (what EXT-X-PRELOAD-HINT names).
func isNextPart(s *segstore.Snapshot, msn uint64, idx int) bool {
	last := s.Last()
	if last == nil {
		return msn == 0 && idx == 0
	}
	if msn == last.MSN {
		return idx == len(last.Parts)
	}
	return msn == last.MSN+1 && idx == 0
}

// waited answers a failed wait; it returns true when the caller should
// go on.
func (o *Origin) waited(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, segstore.ErrTimeout):
		o.fail(w, http.StatusServiceUnavailable, "media not available yet", false)
	case errors.Is(err, segstore.ErrEnded):
		o.fail(w, http.StatusNotFound, "stream ended", true)
	}
	return false
}

func (o *Origin) writeParts(w http.ResponseWriter, r *http.Request, ct []string, size int, bufs [][]byte) {
	h := w.Header()
	h["Content-Type"] = ct
	h["Cache-Control"] = hvImmutable
	h["Content-Length"] = []string{strconv.Itoa(size)}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for _, b := range bufs {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}
