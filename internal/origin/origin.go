package origin

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/packager/hls"
	"github.com/stagecast/stagecast/internal/segstore"
)

// Authorizer decides whether a request may play a channel. The integrator
// implements it with playback tokens (?token=, auth.VerifyPlayback and
// the channel's playback keys) and restriction policies. A non-nil error
// is answered 403 with err.Error() as the body, so keep it short and free
// of secrets. It is called for every request of a channel (playlists and
// media), so implementations should cache verified tokens.
type Authorizer interface {
	Authorize(r *http.Request, channelARN string) error
}

// ErrUnknownChannel may be returned (or wrapped) by an Authorizer for a
// channel that does not exist; the origin then answers 404 like for an
// offline channel instead of 403.
var ErrUnknownChannel = errors.New("unknown channel")

// Options configure an Origin.
type Options struct {
	Store *segstore.Store
	// Authorizer, when nil, lets everyone play every channel.
	Authorizer Authorizer
	// BlockTimeout bounds blocking reloads and hinted-part waits (503
	// after it). Default: three segment targets.
	BlockTimeout time.Duration
	// ViewerWindow: a viewer counts while it requested a playlist within
	// this window. Default 15 s.
	ViewerWindow time.Duration
	Log          *slog.Logger
}

// Origin is the playback http.Handler.
type Origin struct {
	store   *segstore.Store
	auth    Authorizer
	timeout time.Duration
	log     *slog.Logger
	viewers viewerCounter

	bufs sync.Pool
}

// New returns an origin serving from o.Store.
func New(o Options) *Origin {
	so := o.Store.Options()
	if o.BlockTimeout <= 0 {
		o.BlockTimeout = 3 * so.SegmentTarget
	}
	if o.ViewerWindow <= 0 {
		o.ViewerWindow = 15 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	org := &Origin{store: o.Store, auth: o.Authorizer, timeout: o.BlockTimeout, log: o.Log.With("component", "origin")}
	org.viewers.window = o.ViewerWindow
	org.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	return org
}

// Register mounts the origin on mux at PathPrefix.
func (o *Origin) Register(mux *http.ServeMux) {
	mux.Handle(PathPrefix, o)
}

// Viewers returns how many distinct viewers requested a playlist of the
// channel within the viewer window.
func (o *Origin) Viewers(channelARN string) int { return o.viewers.count(channelARN) }

// Shared header values (net/http does not modify them).
var (
	hvAny         = []string{"*"}
	hvExpose      = []string{"Content-Length, Content-Type, Cache-Control, Date, Age"}
	hvMethods     = []string{"GET, HEAD, OPTIONS"}
	hvPlaylist    = []string{"application/vnd.apple.mpegurl"}
	hvMP4         = []string{"video/mp4"}
	hvTS          = []string{"video/mp2t"}
	hvText        = []string{"text/plain; charset=utf-8"}
	hvShort       = []string{"public, max-age=1"}
	hvBlocking    = []string{"public, max-age=60"}
	hvImmutable   = []string{"public, max-age=31536000, immutable"}
	hvNoStore     = []string{"no-store"}
	hvNoSniff     = []string{"nosniff"}
	hvPreflightMA = []string{"86400"}
)

func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hvAny
	h["Access-Control-Expose-Headers"] = hvExpose
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h["Access-Control-Allow-Methods"] = hvMethods
		h["Access-Control-Allow-Headers"] = hvAny
		h["Access-Control-Max-Age"] = hvPreflightMA
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h["Allow"] = hvMethods
		o.fail(w, http.StatusMethodNotAllowed, "method not allowed", false)
		return
	}
	t, err := parsePath(r.URL.Path)
	if err != nil {
		o.fail(w, http.StatusNotFound, "not found", true)
		return
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		o.fail(w, http.StatusBadRequest, "bad query", false)
		return
	}
	arn := t.channelARN()
	if o.auth != nil {
		if err := o.auth.Authorize(r, arn); err != nil {
			if errors.Is(err, ErrUnknownChannel) {
				o.fail(w, http.StatusNotFound, "channel is not live", true)
				return
			}
			o.fail(w, http.StatusForbidden, err.Error(), false)
			return
		}
	}
	ch := o.store.Channel(arn)
	if ch == nil {
		o.fail(w, http.StatusNotFound, "channel is not live", true)
		return
	}
	if t.rendition == "" {
		o.viewers.seen(arn, r, q.token)
		o.multivariant(w, r, ch, t, q)
		return
	}
	rd := ch.Rendition(t.rendition)
	if rd == nil {
		o.fail(w, http.StatusNotFound, "unknown rendition", true)
		return
	}
	if t.file == hls.PlaylistName {
		o.viewers.seen(arn, r, q.token)
		o.mediaPlaylist(w, r, ch, rd, q)
		return
	}
	o.media(w, r, ch, rd, t.file)
}

func (o *Origin) fail(w http.ResponseWriter, code int, msg string, cacheShort bool) {
	h := w.Header()
	h["Content-Type"] = hvText
	h["X-Content-Type-Options"] = hvNoSniff
	if cacheShort {
		h["Cache-Control"] = hvShort
	} else {
		h["Cache-Control"] = hvNoStore
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

func tokenQuery(token string) string {
	if token == "" {
		return ""
	}
	return "token=" + url.QueryEscape(token)
}

func (o *Origin) multivariant(w http.ResponseWriter, r *http.Request, ch *segstore.Channel, t target, q query) {
	rs := ch.Renditions()
	if len(rs) == 0 {
		o.fail(w, http.StatusNotFound, "channel has no renditions yet", true)
		return
	}
	tq := tokenQuery(q.token)
	vs := make([]hls.Variant, 0, len(rs))
	base := t.region + "." + t.account + ".channel." + t.channelID + "/"
	for _, rd := range rs {
		uri := base + rd.Name() + "/" + hls.PlaylistName
		if tq != "" {
			uri += "?" + tq
		}
		vs = append(vs, hls.VariantOf(rd, uri))
	}
	o.write(w, r, hvPlaylist, hvShort, hls.AppendMultivariant(nil, vs))
}

// Cache slots of a snapshot's rendered playlist.
const (
	slotPlaylist = 0
)

func (o *Origin) mediaOptions(ch *segstore.Channel, self *segstore.Rendition, tq string) hls.MediaOptions {
	so := ch.Options()
	mo := hls.MediaOptions{
		LowLatency: ch.LatencyMode() == segstore.Low, Container: ch.Container(),
		PartTarget: so.PartTarget, SegmentTarget: so.SegmentTarget, Epoch: ch.Epoch(), Query: tq,
	}
	if mo.LowLatency {
		for _, rd := range ch.Renditions() {
			if rd == self {
				continue
			}
			if r, ok := hls.ReportOf("../"+rd.Name()+"/"+hls.PlaylistName, rd.Snapshot()); ok {
				mo.Reports = append(mo.Reports, r)
			}
		}
	}
	return mo
}

func (o *Origin) mediaPlaylist(w http.ResponseWriter, r *http.Request, ch *segstore.Channel, rd *segstore.Rendition, q query) {
	ll := ch.LatencyMode() == segstore.Low
	blocking := ll && q.hasMSN
	var snap *segstore.Snapshot
	var err error
	if blocking {
		snap = rd.Snapshot()
		if tooFar(snap, uint64(q.msn), q.part, ch.Options()) {
			o.fail(w, http.StatusBadRequest, "_HLS_msn/_HLS_part too far ahead of the live edge", false)
			return
		}
		snap, err = rd.Wait(r.Context(), uint64(q.msn), q.part, o.timeout)
	} else if ll {
		snap, err = rd.WaitAny(r.Context(), o.timeout)
	} else {
		// Plain HLS lists complete segments only: wait for the first.
		snap, err = rd.WaitComplete(r.Context(), o.timeout)
	}
	switch {
	case err == nil, errors.Is(err, segstore.ErrEnded) && snap.Last() != nil:
	case errors.Is(err, segstore.ErrEnded):
		o.fail(w, http.StatusNotFound, "channel is not live", true)
		return
	case errors.Is(err, segstore.ErrTimeout):
		o.fail(w, http.StatusServiceUnavailable, "media not available yet", false)
		return
	default: // client went away
		return
	}
	cc := hvShort
	if blocking {
		cc = hvBlocking
	}
	if q.token == "" {
		body := snap.Cached(slotPlaylist, func() []byte {
			return hls.AppendMedia(nil, snap, o.mediaOptions(ch, rd, ""))
		})
		o.write(w, r, hvPlaylist, cc, body)
		return
	}
	bp := o.bufs.Get().(*[]byte)
	b := hls.AppendMedia((*bp)[:0], snap, o.mediaOptions(ch, rd, tokenQuery(q.token)))
	o.write(w, r, hvPlaylist, cc, b)
	*bp = b
	o.bufs.Put(bp)
}

// advancePartLimit is the LL-HLS spec's limit on how far ahead of the
// last part a blocking request may ask.
const advancePartLimit = 3

// tooFar applies the LL-HLS rule (6.2.5.2): a request for a segment
// more than two beyond the last one, or for a part more than
// advancePartLimit beyond the last part, is a 400. For a segment after
// the open one, a part index no segment of this stream can reach (parts
// per segment + the limit) is too far.
func tooFar(s *segstore.Snapshot, msn uint64, part int, so segstore.Options) bool {
	var lastMSN uint64
	lastPart := -1
	if last := s.Last(); last != nil {
		lastMSN, lastPart = last.MSN, len(last.Parts)-1
	}
	switch {
	case msn > lastMSN+2:
		return true
	case part < 0 || msn < lastMSN:
		return false
	case msn == lastMSN:
		return part-lastPart > advancePartLimit
	}
	return part > partsPerSegment(so)+advancePartLimit
}

func partsPerSegment(so segstore.Options) int {
	n := int((so.SegmentTarget + so.PartTarget - 1) / so.PartTarget)
	return max(n, 1)
}

func (o *Origin) write(w http.ResponseWriter, r *http.Request, ct, cc []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ct
	h["Cache-Control"] = cc
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
