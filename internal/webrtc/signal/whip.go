package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control/stages"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// Limits on what clients send.
const (
	// maxOfferBytes bounds an SDP offer or trickle fragment.
	maxOfferBytes = 64 << 10
	// maxEventMessage bounds one client-to-server WebSocket message.
	maxEventMessage = 4 << 10
	// signalTimeout bounds one WHIP negotiation.
	signalTimeout = 15 * time.Second
)

// Verifier checks participant tokens (*stages.Service).
type Verifier interface {
	VerifyToken(ctx context.Context, token string) (auth.ParticipantClaims, error)
}

// Options configure a Handler.
type Options struct {
	SFU      *sfu.Server
	Verifier Verifier
	// PingInterval: events sockets are pinged this often and dropped when
	// the pong does not come back within the same time.
	PingInterval time.Duration
	Log          *slog.Logger
}

// Handler serves WHIP and the events WebSocket.
type Handler struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	socks  map[*wsSink]struct{}
	closed bool
	wg     sync.WaitGroup // events socket handlers
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 2 * time.Second
	}
	return &Handler{o: o, log: o.Log.With("component", "stage_signal"), socks: map[*wsSink]struct{}{}}
}

// Register mounts the routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /whip", h.publish)
	mux.HandleFunc("POST /whip/subscribe/{participant}", h.subscribe)
	mux.HandleFunc("PATCH /whip/{stage}/{participant}/{session}", h.patch)
	mux.HandleFunc("DELETE /whip/{stage}/{participant}/{session}", h.delete)
	mux.HandleFunc("OPTIONS /whip", h.preflight)
	mux.HandleFunc("OPTIONS /whip/", h.preflight)
	mux.HandleFunc("GET /events/{stage}", h.events)
}

// Run closes every events socket when ctx ends and waits for their
// handlers (hijacked connections outlive http.Server.Shutdown).
func (h *Handler) Run(ctx context.Context) error {
	<-ctx.Done()
	h.mu.Lock()
	h.closed = true
	socks := make([]*wsSink, 0, len(h.socks))
	for s := range h.socks {
		socks = append(socks, s)
	}
	h.mu.Unlock()
	for _, s := range socks {
		s.Close("server shutting down")
	}
	h.wg.Wait()
	return nil
}

// apiError is an HTTP error with its JSON code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func cors(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Expose-Headers", "Location, ETag, Link")
}

func (h *Handler) preflight(w http.ResponseWriter, _ *http.Request) {
	cors(w)
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	hd.Set("Access-Control-Max-Age", "600")
	hd.Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}

func writeErr(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = mapSFUError(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": ae.code, "message": ae.msg})
}

func mapSFUError(err error) *apiError {
	switch {
	case errors.Is(err, sfu.ErrPublisherCap):
		return errf(http.StatusConflict, "PUBLISHER_LIMIT", "%v", err)
	case errors.Is(err, sfu.ErrSubscriberCap):
		return errf(http.StatusConflict, "SUBSCRIBER_LIMIT", "%v", err)
	case errors.Is(err, sfu.ErrNotPublishing):
		return errf(http.StatusNotFound, "NOT_PUBLISHING", "%v", err)
	case errors.Is(err, sfu.ErrNotFound):
		return errf(http.StatusNotFound, "NOT_FOUND", "%v", err)
	case errors.Is(err, sfu.ErrBadOffer):
		return errf(http.StatusBadRequest, "BAD_SDP", "%v", err)
	case errors.Is(err, sfu.ErrClosed):
		return errf(http.StatusServiceUnavailable, "UNAVAILABLE", "%v", err)
	}
	return errf(http.StatusInternalServerError, "INTERNAL", "%v", err)
}

// verify checks a token and, when stageID is set, that it is for that
// stage; every failure is a 401 with a specific code.
func (h *Handler) verify(ctx context.Context, token, stageID string) (sfu.Identity, error) {
	if token == "" {
		return sfu.Identity{}, errf(http.StatusUnauthorized, "MISSING_TOKEN", "a participant token is required (Authorization: Bearer <token>)")
	}
	c, err := h.o.Verifier.VerifyToken(ctx, token)
	if err != nil {
		var nf *model.NotFoundError
		switch {
		case errors.Is(err, auth.ErrTokenExpired):
			return sfu.Identity{}, errf(http.StatusUnauthorized, "TOKEN_EXPIRED", "participant token expired")
		case errors.Is(err, stages.ErrRevoked):
			return sfu.Identity{}, errf(http.StatusUnauthorized, "PARTICIPANT_DISCONNECTED", "this participant was disconnected from the stage and cannot rejoin with this token")
		case errors.Is(err, auth.ErrTokenSignature):
			return sfu.Identity{}, errf(http.StatusUnauthorized, "INVALID_SIGNATURE", "participant token signature does not verify with the stage key or an imported public key")
		case errors.Is(err, auth.ErrTokenMalformed), errors.Is(err, auth.ErrTokenClaims):
			return sfu.Identity{}, errf(http.StatusUnauthorized, "INVALID_TOKEN", "invalid participant token: %v", err)
		case errors.As(err, &nf):
			return sfu.Identity{}, errf(http.StatusUnauthorized, "STAGE_NOT_FOUND", "the token's stage does not exist")
		}
		return sfu.Identity{}, fmt.Errorf("verify participant token: %w", err)
	}
	if stageID != "" && c.StageID != stageID {
		return sfu.Identity{}, errf(http.StatusUnauthorized, "WRONG_STAGE", "participant token is for stage %s, not %s", c.StageID, stageID)
	}
	return sfu.Identity{StageARN: c.StageARN, StageID: c.StageID, ParticipantID: c.ParticipantID, UserID: c.UserID,
		Attributes: c.Attributes, Publish: c.Publish, Subscribe: c.Subscribe}, nil
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

func readBody(r *http.Request, wantType string) (string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != wantType {
		return "", errf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be %s", wantType)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxOfferBytes+1))
	if err != nil {
		return "", errf(http.StatusBadRequest, "BAD_REQUEST", "read body: %v", err)
	}
	if len(b) > maxOfferBytes {
		return "", errf(http.StatusRequestEntityTooLarge, "TOO_LARGE", "body exceeds %d bytes", maxOfferBytes)
	}
	return string(b), nil
}

func clientOf(r *http.Request) sfu.Client {
	c := parseUserAgent(r.Header.Get("User-Agent"))
	if v := r.Header.Get("X-Stagecast-Sdk-Version"); v != "" && len(v) <= 64 {
		c.SDKVersion = v
	}
	return c
}

func (h *Handler) publish(w http.ResponseWriter, r *http.Request) {
	h.negotiate(w, r, "")
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	h.negotiate(w, r, r.PathValue("participant"))
}

// negotiate runs a publish (target == "") or subscribe POST.
func (h *Handler) negotiate(w http.ResponseWriter, r *http.Request, target string) {
	cors(w)
	ctx, cancel := context.WithTimeout(r.Context(), signalTimeout)
	defer cancel()
	id, err := h.verify(ctx, bearer(r), "")
	if err != nil {
		writeErr(w, err)
		return
	}
	if target == "" && !id.Publish {
		writeErr(w, errf(http.StatusForbidden, "PUBLISH_NOT_ALLOWED", "participant token lacks the PUBLISH capability"))
		return
	}
	if target != "" && !id.Subscribe {
		writeErr(w, errf(http.StatusForbidden, "SUBSCRIBE_NOT_ALLOWED", "participant token lacks the SUBSCRIBE capability"))
		return
	}
	offer, err := readBody(r, "application/sdp")
	if err != nil {
		writeErr(w, err)
		return
	}
	var ss *sfu.Session
	var answer string
	if target == "" {
		ss, answer, err = h.o.SFU.PublishWHIP(ctx, id, clientOf(r), offer)
	} else {
		ss, answer, err = h.o.SFU.SubscribeWHIP(ctx, id, clientOf(r), target, offer)
	}
	if err != nil {
		h.log.Info("whip request refused", "participant_id", id.ParticipantID, "stage_arn", id.StageARN, "error", err)
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Location", scheme+"://"+r.Host+"/whip/"+id.StageID+"/"+id.ParticipantID+"/"+ss.ID)
	w.Header().Set("ETag", `"`+ss.ID+`"`)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// resource verifies the token against the resource path and finds it.
func (h *Handler) resource(w http.ResponseWriter, r *http.Request) *sfu.Session {
	cors(w)
	id, err := h.verify(r.Context(), bearer(r), r.PathValue("stage"))
	if err != nil {
		writeErr(w, err)
		return nil
	}
	if id.ParticipantID != r.PathValue("participant") {
		writeErr(w, errf(http.StatusForbidden, "NOT_YOUR_RESOURCE", "the token belongs to another participant"))
		return nil
	}
	ss, err := h.o.SFU.Lookup(id.StageARN, id.ParticipantID, r.PathValue("session"))
	if err != nil {
		writeErr(w, errf(http.StatusNotFound, "NOT_FOUND", "no such WHIP session"))
		return nil
	}
	return ss
}

func (h *Handler) patch(w http.ResponseWriter, r *http.Request) {
	ss := h.resource(w, r)
	if ss == nil {
		return
	}
	frag, err := readBody(r, "application/trickle-ice-sdpfrag")
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := ss.AddCandidates(frag); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	ss := h.resource(w, r)
	if ss == nil {
		return
	}
	ss.Close()
	w.WriteHeader(http.StatusOK)
}
