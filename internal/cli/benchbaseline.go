package cli

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
)

// baselineServer is the floor `bench tokens --baseline` measures the API
// against: an HTTP server on 127.0.0.1 that answers every POST with a
// freshly minted participant token and does nothing else — no SigV4, no
// routing, no JSON decoding or validation, no store. It runs on net/http
// with the API listener's timeouts, so the difference between it and the
// API is the API's own cost per token, and the difference between it and
// the raw signing ceiling is what one HTTP exchange with a client on the
// same cores costs on this machine.
type baselineServer struct {
	srv  *http.Server
	ln   net.Listener
	errs chan error // the serve loop's exit; Close waits for it
}

// startBaselineServer starts the floor server; Close stops it.
func startBaselineServer(key *ecdsa.PrivateKey) (*baselineServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	signer := auth.NewTokenSigner(key, "")
	b := &baselineServer{ln: ln, errs: make(chan error, 1)}
	b.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serveBaselineToken(w, r, signer)
		}),
		// The same protections as the API listener (internal/app).
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { b.errs <- b.srv.Serve(ln) }()
	return b, nil
}

// Endpoint is the server's base URL.
func (b *baselineServer) Endpoint() string { return "http://" + b.ln.Addr().String() }

// Close shuts the server down and waits for its serve loop.
func (b *baselineServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if serveErr := <-b.errs; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// serveBaselineToken mints one token with fixed claims and writes it as a
// CreateParticipantToken response body.
func serveBaselineToken(w http.ResponseWriter, r *http.Request, signer *auth.TokenSigner) {
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	tok, err := signer.MintParticipant(auth.ParticipantClaims{
		ParticipantID: "baseline", UserID: "bench",
		StageARN:  "arn:aws:ivs:us-west-2:123456789012:stage/baseline",
		StageID:   "baseline",
		EventsURL: "ws://127.0.0.1/events", WhipURL: "http://127.0.0.1",
		Publish: true, Subscribe: true, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := make([]byte, 0, len(tok)+64)
	body = append(body, `{"participantToken":{"token":"`...)
	body = append(body, tok...)
	body = append(body, `"}}`...)
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body)
}
