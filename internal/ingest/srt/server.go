package srt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/ingest"
)

// Defaults for zero Config fields.
const (
	DefaultMaxConns         = 1000
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultReadTimeout      = 10 * time.Second
	DefaultLatency          = 120 * time.Millisecond
)

// Config configures a Server.
type Config struct {
	// Addr is the UDP host:port to listen on (port 0 picks one).
	Addr string
	// Sink admits publishers. Required.
	Sink ingest.Sink
	// Log receives lifecycle and refusal lines; nil discards them.
	Log *slog.Logger
	// MaxConns caps concurrent connections; more are rejected in the
	// handshake (REJX_OVERLOAD). 0 means DefaultMaxConns.
	MaxConns int
	// HandshakeTimeout bounds the passphrase lookup and, after the
	// handshake, the wait for the codec configuration (PMT, SPS/PPS and a
	// key frame). 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// ReadTimeout is the SRT peer idle timeout: a caller silent for this
	// long is dropped. 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Latency is the minimum receiver latency (TSBPD); the caller's is used
	// when larger. 0 means DefaultLatency.
	Latency time.Duration
}

// Server accepts SRT callers that publish MPEG-TS and feeds them to a Sink.
type Server struct {
	ln       gosrt.Listener
	sink     ingest.Sink
	log      *slog.Logger
	maxConns int
	hsTO     time.Duration
	idleTO   time.Duration
}

// New returns a server listening on cfg.Addr, ready to Run.
func New(cfg Config) (*Server, error) {
	if cfg.Sink == nil {
		return nil, errors.New("srt: config has no sink")
	}
	s := &Server{sink: cfg.Sink, log: cfg.Log, maxConns: cfg.MaxConns, hsTO: cfg.HandshakeTimeout, idleTO: cfg.ReadTimeout}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "ingest.srt")
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.hsTO <= 0 {
		s.hsTO = DefaultHandshakeTimeout
	}
	if s.idleTO <= 0 {
		s.idleTO = DefaultReadTimeout
	}
	latency := cfg.Latency
	if latency <= 0 {
		latency = DefaultLatency
	}
	sc := gosrt.DefaultConfig()
	sc.ReceiverLatency = latency
	sc.PeerLatency = latency
	sc.PeerIdleTimeout = s.idleTO
	ln, err := gosrt.Listen("srt", cfg.Addr, sc)
	if err != nil {
		return nil, fmt.Errorf("srt: %w", err)
	}
	s.ln = ln
	return s, nil
}

// Addr is the listening UDP address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run accepts callers until ctx is done, then closes the listener (which
// closes every SRT connection) and returns after all connection goroutines
// exited. It returns nil after cancellation, else the listener's error.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, s.ln.Close)
	defer stop()
	defer s.ln.Close()

	s.log.Info("listening", "addr", s.ln.Addr().String())
	slots := make(chan struct{}, s.maxConns)
	for {
		req, err := s.ln.Accept2()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, gosrt.ErrListenerClosed) {
				return nil
			}
			return fmt.Errorf("srt accept: %w", err)
		}
		select {
		case slots <- struct{}{}:
		default:
			req.Reject(gosrt.REJX_OVERLOAD)
			s.log.Warn("publish refused", "remote_addr", req.RemoteAddr().String(),
				"reason", fmt.Sprintf("too many connections (max %d)", s.maxConns))
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.handle(ctx, req)
		})
	}
}

// handle answers one connection request and, when accepted, serves it.
func (s *Server) handle(ctx context.Context, req gosrt.ConnRequest) {
	log := s.log.With("remote_addr", req.RemoteAddr().String())
	defer func() {
		// One malformed stream must not take the server down if a parser
		// below panics.
		if r := recover(); r != nil {
			log.Error("connection handler panicked", "err", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	refuse := func(code gosrt.RejectionReason, reason string) {
		req.Reject(code)
		log.Warn("publish refused", "reason", reason, "srt_reject", int(code))
	}
	key, err := StreamKeyFromStreamID(req.StreamId())
	switch {
	case errors.Is(err, errNotPublish):
		refuse(gosrt.REJX_BAD_MODE, err.Error())
		return
	case err != nil:
		refuse(gosrt.REJX_BAD_REQUEST, err.Error())
		return
	}
	secret := auth.Secret(key)
	lctx, cancel := context.WithTimeout(ctx, s.hsTO)
	pass, err := s.sink.SRTPassphrase(lctx, secret)
	cancel()
	switch {
	case errors.Is(err, ingest.ErrUnknownStreamKey):
		refuse(gosrt.REJX_FORBIDDEN, err.Error())
		return
	case err != nil:
		refuse(gosrt.REJX_ISE, fmt.Sprintf("passphrase lookup: %v", err))
		return
	}
	switch {
	case pass == "" && req.IsEncrypted():
		refuse(gosrt.REJ_UNSECURE, "caller encrypts but the channel has no SRT passphrase (insecure ingest)")
		return
	case pass != "" && !req.IsEncrypted():
		refuse(gosrt.REJ_UNSECURE, "channel requires SRT encryption; the caller sent no passphrase")
		return
	case pass != "":
		if err := req.SetPassphrase(pass.Reveal()); err != nil {
			refuse(gosrt.REJ_BADSECRET, "wrong SRT passphrase")
			return
		}
	}
	conn, err := req.Accept()
	if err != nil {
		log.Info("srt accept failed", "err", err)
		return
	}
	c := newSRTConn(s, conn, secret, pass, log)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.close()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	wg.Go(c.pump)
	c.serve(ctx)
}
