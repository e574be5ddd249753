package rtmp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/ingest"
)

// Defaults for zero Config fields.
const (
	DefaultMaxConns         = 1000
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultReadTimeout      = 10 * time.Second
)

// Config configures a Server.
type Config struct {
	// Listener is the TCP listener to serve. When nil, New listens on Addr.
	Listener net.Listener
	// Addr is a host:port to listen on when Listener is nil.
	Addr string
	// TLS, when set, makes this an RTMPS server: the listener is wrapped in
	// TLS and publishers are reported as ingest.RTMPS.
	TLS *tls.Config
	// Sink admits publishers. Required.
	Sink ingest.Sink
	// Log receives lifecycle and refusal lines; nil discards them.
	Log *slog.Logger
	// MaxConns caps concurrent connections, handshakes included; more are
	// closed on accept. 0 means DefaultMaxConns.
	MaxConns int
	// HandshakeTimeout bounds the time from accept to the first media after
	// the track analysis (the RTMP handshake, connect, publish and about 2 s
	// of media to learn the codecs). 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// ReadTimeout drops a publisher that sends nothing for this long.
	// 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
}

// Server accepts RTMP (or RTMPS) publishers and feeds them to a Sink.
type Server struct {
	ln       net.Listener
	protocol ingest.Protocol
	sink     ingest.Sink
	log      *slog.Logger
	maxConns int
	hsTO     time.Duration
	readTO   time.Duration
}

// New returns a server bound to its listener, ready to Run.
func New(cfg Config) (*Server, error) {
	if cfg.Sink == nil {
		return nil, errors.New("rtmp: config has no sink")
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("rtmp: listen: %w", err)
		}
	}
	s := &Server{
		ln:       ln,
		protocol: ingest.RTMP,
		sink:     cfg.Sink,
		log:      cfg.Log,
		maxConns: cfg.MaxConns,
		hsTO:     cfg.HandshakeTimeout,
		readTO:   cfg.ReadTimeout,
	}
	if cfg.TLS != nil {
		s.ln = tls.NewListener(ln, cfg.TLS)
		s.protocol = ingest.RTMPS
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "ingest."+strings.ToLower(string(s.protocol)))
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.hsTO <= 0 {
		s.hsTO = DefaultHandshakeTimeout
	}
	if s.readTO <= 0 {
		s.readTO = DefaultReadTimeout
	}
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Protocol is ingest.RTMP or ingest.RTMPS.
func (s *Server) Protocol() ingest.Protocol { return s.protocol }

// Run accepts connections until ctx is done, then closes the listener and
// every connection and returns after all connection goroutines exited. It
// returns nil after cancellation, else the accept error.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { _ = s.ln.Close() })
	defer stop()
	defer func() { _ = s.ln.Close() }()

	s.log.Info("listening", "addr", s.ln.Addr().String())
	slots := make(chan struct{}, s.maxConns)
	var tempDelay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(tempDelay):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			return fmt.Errorf("%s accept: %w", s.protocol, err)
		}
		tempDelay = 0
		select {
		case slots <- struct{}{}:
		default:
			s.log.Warn("connection refused", "remote_addr", nc.RemoteAddr().String(),
				"reason", fmt.Sprintf("too many connections (max %d)", s.maxConns))
			_ = nc.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.handle(ctx, nc)
		})
	}
}
