package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/auth/sigv4"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
)

// MaxBodyBytes bounds a request body. The largest legitimate IVS request
// (CreateStage with 12 token configurations of 1 KiB attributes each, or a
// 50-item batch) is well under 64 KiB; 1 MiB leaves room and stops abuse.
const MaxBodyBytes = 1 << 20

// Authenticator checks a request's credentials. It may read the body; it
// returns the body bytes so the handler does not read twice.
type Authenticator interface {
	Authenticate(r *http.Request) (body []byte, err error)
}

// Handler serves both IVS APIs.
type Handler struct {
	auth   Authenticator
	log    *slog.Logger
	routes map[string]route // "POST /CreateChannel" -> route
	// tags holds the tagging routes per service: "ivs GET", "rt DELETE"...
	tags   map[string]route
	counts requestCounts // answered requests, for /metrics
}

type route struct {
	name   string
	status int
	invoke func(ctx context.Context, req wire.Request) (any, error)
}

// New builds the handler. auth must not be nil (use an Authenticator that
// accepts everything only in tests of other layers).
func New(ivs ivsapi.Service, rt rtapi.Service, auth Authenticator, log *slog.Logger) *Handler {
	h := &Handler{auth: auth, log: log, routes: map[string]route{}, tags: map[string]route{}}
	register(h, "ivs", ivsapi.Operations, ivs)
	register(h, "rt", rtapi.Operations, rt)
	return h
}

// register adds a service's operation table: tagging operations (the only
// ones both services share a path for) go to h.tags, keyed by service.
func register[S any](h *Handler, service string, ops []wire.Operation[S], svc S) {
	for _, op := range ops {
		r := route{op.Name, op.Status, func(ctx context.Context, req wire.Request) (any, error) {
			return op.Invoke(ctx, svc, req)
		}}
		if strings.HasPrefix(op.Path, "/tags/") {
			h.tags[service+" "+op.Method] = r
			continue
		}
		h.routes[op.Method+" "+op.Path] = r
	}
}

// ivsTagTypes are the ARN resource types owned by the low-latency service;
// every other type is routed to ivs-realtime.
var ivsTagTypes = map[string]bool{
	"channel": true, "stream-key": true, "playback-key": true,
	"recording-configuration": true, "playback-restriction-policy": true, "ad-configuration": true,
}

// tagRoute finds the tagging operation for /tags/{arn}. ARNs that are not
// IVS ARNs go to the ivs service, whose validation then names the problem.
func (h *Handler) tagRoute(method, arn string) (route, bool) {
	service := "rt"
	if t := model.ResourceType(arn); t == "" || ivsTagTypes[t] {
		service = "ivs"
	}
	r, ok := h.tags[service+" "+method]
	return r, ok
}

// newRequestID returns a random UUID-shaped request id. It only has to be
// unique, not secret, so it comes from the runtime's per-process ChaCha8
// generator rather than the operating system's.
func newRequestID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	var id [36]byte
	hex.Encode(id[0:8], raw[0:4])
	hex.Encode(id[9:13], raw[4:6])
	hex.Encode(id[14:18], raw[6:8])
	hex.Encode(id[19:23], raw[8:10])
	hex.Encode(id[24:36], raw[10:16])
	id[8], id[13], id[18], id[23] = '-', '-', '-', '-'
	return string(id[:])
}

// Response header names in canonical form, set straight into the header
// map: Header.Set would canonicalize them again on every request.
const (
	hdrRequestID   = "X-Amzn-Requestid"
	hdrContentType = "Content-Type"
	hdrErrorType   = "X-Amzn-Errortype"
)

// jsonType is the Content-Type of every JSON response; shared, never mutated.
var jsonType = []string{"application/json"}

// bufPool holds response encoding buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps an unusually large response's buffer out of the pool.
const maxPooledBuf = 64 << 10

// Exposed and allowed CORS headers, from the model's CORS trait plus the
// SigV4 headers the JS SDK sends.
const (
	corsAllowHeaders  = "Authorization, Content-Type, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent, X-Amz-Content-Sha256, X-Api-Key, amz-sdk-invocation-id, amz-sdk-request"
	corsExposeHeaders = "x-amzn-errortype, x-amzn-requestid, x-amzn-errormessage, x-amzn-trace-id, x-amz-apigw-id, date"
	corsAllowMethods  = "GET, POST, DELETE, OPTIONS"
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	hdr := w.Header()
	hdr[hdrRequestID] = []string{reqID}
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Vary", "Origin")
		hdr.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
	if r.Method == http.MethodOptions {
		hdr.Set("Access-Control-Allow-Methods", corsAllowMethods)
		hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		hdr.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}

	rt, req, ok := h.match(r)
	if !ok {
		h.writeError(w, r, reqID, "", exception{"UnknownOperationException", 404, "Unknown operation " + r.Method + " " + r.URL.Path}, nil)
		return
	}
	body, err := h.auth.Authenticate(r)
	if err != nil {
		h.writeError(w, r, reqID, rt.name, toException(err), err)
		return
	}
	if body == nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			h.writeError(w, r, reqID, rt.name, exception{"ValidationException", 400, "Could not read request body"}, err)
			return
		}
	}
	if len(body) > MaxBodyBytes {
		h.writeError(w, r, reqID, rt.name, exception{"ValidationException", 400, "Request body is larger than 1 MiB"}, nil)
		return
	}
	req.Body = body
	out, err := rt.invoke(r.Context(), req)
	if err != nil {
		h.writeError(w, r, reqID, rt.name, toException(err), err)
		return
	}
	if rt.status == http.StatusNoContent {
		w.WriteHeader(http.StatusNoContent)
		h.logDone(r, reqID, rt.name, http.StatusNoContent, start)
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	if out == nil {
		buf.WriteString("{}")
	} else if a, ok := out.(wire.JSONAppender); ok {
		// Generated shapes encode themselves: the same bytes as
		// encoding/json, without reflection.
		b, err := a.AppendJSON(buf.AvailableBuffer())
		if err != nil {
			h.writeError(w, r, reqID, rt.name, toException(err), err)
			return
		}
		buf.Write(b)
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			h.writeError(w, r, reqID, rt.name, toException(err), err)
			return
		}
	}
	hdr[hdrContentType] = jsonType
	w.WriteHeader(rt.status)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	h.logDone(r, reqID, rt.name, rt.status, start)
}

// match finds the route and the URI parts of the request.
func (h *Handler) match(r *http.Request) (route, wire.Request, bool) {
	path := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(path, "/tags/"); ok && rest != "" {
		arn, err := url.PathUnescape(rest)
		if err != nil {
			return route{}, wire.Request{}, false
		}
		rt, ok := h.tagRoute(r.Method, arn)
		if !ok {
			return route{}, wire.Request{}, false
		}
		return rt, wire.Request{Labels: map[string]string{"resourceArn": arn}, Query: r.URL.Query()}, true
	}
	rt, ok := h.routes[r.Method+" "+path]
	return rt, wire.Request{}, ok
}

type errorBody struct {
	Type             string `json:"__type"`
	ExceptionMessage string `json:"exceptionMessage"`
	Message          string `json:"message"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, reqID, op string, e exception, cause error) {
	hdr := w.Header()
	hdr[hdrContentType] = jsonType
	hdr[hdrErrorType] = []string{e.Code}
	w.WriteHeader(e.Status)
	h.counts.add(op, e.Status)
	b, _ := json.Marshal(errorBody{Type: e.Code, ExceptionMessage: e.Message, Message: e.Message})
	_, _ = w.Write(b)
	level := slog.LevelDebug
	if e.Status >= 500 {
		level = slog.LevelError
	} else if e.Status == 401 || e.Status == 403 {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", reqID), slog.String("operation", op), slog.String("code", e.Code),
		slog.Int("status", e.Status), slog.String("remote_addr", r.RemoteAddr),
	}
	if cause != nil {
		attrs = append(attrs, slog.String("err", cause.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "api request failed", attrs...)
}

func (h *Handler) logDone(r *http.Request, reqID, op string, status int, start time.Time) {
	h.counts.add(op, status)
	if !h.log.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "api request",
		slog.String("request_id", reqID), slog.String("operation", op), slog.Int("status", status),
		slog.Duration("took", time.Since(start)))
}

// SigV4 adapts a SigV4 verifier to an Authenticator: its failures become
// the AWS errors the SDKs map to access denied (403) or a malformed request.
func SigV4(v *sigv4.Verifier) Authenticator { return sigv4Auth{v} }

type sigv4Auth struct{ v *sigv4.Verifier }

func (a sigv4Auth) Authenticate(r *http.Request) ([]byte, error) {
	id, err := a.v.Verify(r)
	if err != nil {
		var e *sigv4.Error
		if errors.As(err, &e) {
			return nil, authError{e}
		}
		return nil, err
	}
	return id.Body, nil
}

// authError carries a sigv4 failure to the error table; Error() is the
// client-safe message only.
type authError struct{ e *sigv4.Error }

func (a authError) Error() string   { return a.e.Message }
func (a authError) AWSCode() string { return a.e.Code }
func (a authError) HTTPStatus() int { return a.e.Status }
func (a authError) Unwrap() error   { return a.e }
