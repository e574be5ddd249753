package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/stagecast/stagecast/internal/events"
)

// Prefix is the path prefix of every admin route.
const Prefix = "/_stagecast/"

// MaxBodyBytes bounds a rule document (a pattern is at most 16 KiB, plus
// five targets).
const MaxBodyBytes = 64 << 10

// RuleInfo is a rule with its delivery statistics.
type RuleInfo struct {
	Rule  events.Rule      `json:"rule"`
	Stats events.RuleStats `json:"stats"`
}

// Rules is what the handler needs from the bus.
type Rules interface {
	CreateRule(ctx context.Context, r events.Rule) (events.Rule, error)
	DeleteRule(ctx context.Context, name string) error
	Rule(name string) (events.Rule, error)
	Rules() []events.Rule
	Stats(name string) (events.RuleStats, error)
	DeadLetters(ctx context.Context, rule string) ([]events.DeadLetter, error)
}

// Authenticator checks a request and returns its body. A failure is sent
// with the status of an *AuthError, else 403, and the error's message.
type Authenticator func(r *http.Request) (body []byte, err error)

// AuthError is an authentication failure with its HTTP status (403 for a
// bad signature, 400 for a malformed one, 413 for a body over the limit).
type AuthError struct {
	Status  int
	Message string
}

func (e *AuthError) Error() string { return e.Message }

// Handler serves the admin routes.
func Handler(rules Rules, auth Authenticator, log *slog.Logger) http.Handler {
	h := &handler{rules: rules, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"rules", h.list)
	mux.HandleFunc("POST "+Prefix+"rules", h.create)
	mux.HandleFunc("GET "+Prefix+"rules/{name}", h.get)
	mux.HandleFunc("DELETE "+Prefix+"rules/{name}", h.delete)
	mux.HandleFunc("GET "+Prefix+"rules/{name}/dead-letters", h.deadLetters)
	mux.HandleFunc("GET "+Prefix+"dead-letters", h.deadLetters)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		body, err := auth(r)
		var tooBig *http.MaxBytesError
		var ae *AuthError
		switch {
		case errors.As(err, &ae):
			writeError(w, ae.Status, ae.Message)
			return
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large (limit %d bytes)", MaxBodyBytes))
			return
		case err != nil:
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		mux.ServeHTTP(w, r)
	})
}

type handler struct {
	rules Rules
	log   *slog.Logger
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg})
}

func (h *handler) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, events.ErrRuleNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, events.ErrRuleExists), errors.Is(err, events.ErrConfigRule):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, events.ErrInvalidRule):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		h.log.Error("rules admin request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func (h *handler) info(r events.Rule) RuleInfo {
	st, _ := h.rules.Stats(r.Name)
	return RuleInfo{Rule: r.Redacted(), Stats: st}
}

func (h *handler) list(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Rules []RuleInfo `json:"rules"`
	}{Rules: []RuleInfo{}}
	for _, r := range h.rules.Rules() {
		out.Rules = append(out.Rules, h.info(r))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	rule, err := h.rules.Rule(r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.info(rule))
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var rule events.Rule
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		writeError(w, http.StatusBadRequest, "rule body: "+err.Error())
		return
	}
	created, err := h.rules.CreateRule(r.Context(), rule)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, RuleInfo{Rule: created, Stats: events.RuleStats{Targets: make([]events.TargetStats, len(created.Targets))}})
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.rules.DeleteRule(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) deadLetters(w http.ResponseWriter, r *http.Request) {
	dls, err := h.rules.DeadLetters(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		DeadLetters []events.DeadLetter `json:"dead_letters"`
	}{dls})
}
