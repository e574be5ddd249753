package signal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// sinkQueue bounds the events queued for one socket; a client that lets it
// fill is disconnected (it would miss state changes otherwise).
const sinkQueue = 256

// writeTimeout bounds one WebSocket write.
const writeTimeout = 5 * time.Second

// wsSink is an events socket as the SFU sees it.
type wsSink struct {
	ch     chan sfu.Event
	once   sync.Once
	done   chan struct{}
	mu     sync.Mutex
	reason string
}

func newSink() *wsSink {
	return &wsSink{ch: make(chan sfu.Event, sinkQueue), done: make(chan struct{})}
}

// Send implements sfu.Sink; it never blocks.
func (s *wsSink) Send(ev sfu.Event) {
	select {
	case <-s.done:
	case s.ch <- ev:
	default:
		s.Close("events queue overflow: client too slow")
	}
}

// Close implements sfu.Sink.
func (s *wsSink) Close(reason string) {
	s.once.Do(func() {
		s.mu.Lock()
		s.reason = reason
		s.mu.Unlock()
		close(s.done)
	})
}

func (s *wsSink) closeReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// clientMessage is a client-to-server message.
type clientMessage struct {
	Type  string `json:"type"`
	Kind  string `json:"kind"`
	Muted bool   `json:"muted"`
}

func tokenFromProtocols(r *http.Request) string {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if p = strings.TrimSpace(p); p != "" {
				return p
			}
		}
	}
	return ""
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	token := tokenFromProtocols(r)
	if token == "" {
		token = r.URL.Query().Get("token") // for clients that cannot set subprotocols
	}
	id, err := h.verify(r.Context(), token, r.PathValue("stage"))
	if err != nil {
		cors(w)
		writeErr(w, err)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		writeErr(w, errf(http.StatusServiceUnavailable, "UNAVAILABLE", "server shutting down"))
		return
	}
	h.wg.Add(1)
	sink := newSink()
	h.socks[sink] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.socks, sink)
		h.mu.Unlock()
		h.wg.Done()
	}()

	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{token}, InsecureSkipVerify: true})
	if err != nil {
		h.log.Info("events websocket upgrade failed", "error", err)
		return
	}
	c.SetReadLimit(maxEventMessage)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	detach, err := h.o.SFU.Attach(ctx, id, clientOf(r), sink)
	if err != nil {
		_ = c.Close(websocket.StatusTryAgainLater, "join failed")
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { h.writeLoop(ctx, c, sink) })
	wg.Go(func() { h.pingLoop(ctx, c, sink) })
	reason := "left"
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				reason = "connection lost"
			}
			break
		}
		if typ != websocket.MessageText {
			continue
		}
		var m clientMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.Type == "mute" {
			h.o.SFU.SetMuted(id.StageARN, id.ParticipantID, m.Kind, m.Muted)
		}
	}
	if kr := sink.closeReason(); kr != "" {
		reason = kr
	}
	sink.Close(reason)
	detach(reason)
	cancel()
	wg.Wait()
	_ = c.CloseNow()
}

// writeLoop sends queued events; when the sink closes with a reason it
// sends a "disconnected" event and a close frame.
func (h *Handler) writeLoop(ctx context.Context, c *websocket.Conn, s *wsSink) {
	write := func(ev sfu.Event) bool {
		b, err := json.Marshal(ev)
		if err != nil {
			return true
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		return c.Write(wctx, websocket.MessageText, b) == nil
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.ch:
			if !write(ev) {
				_ = c.CloseNow()
				return
			}
		case <-s.done:
			for {
				select {
				case ev := <-s.ch:
					if !write(ev) {
						_ = c.CloseNow()
						return
					}
					continue
				default:
				}
				break
			}
			reason := s.closeReason()
			if reason != "left" && reason != "connection lost" {
				write(sfu.Event{Type: sfu.EventDisconnected, Reason: reason})
			}
			_ = c.Close(websocket.StatusNormalClosure, truncate(reason, 120))
			_ = c.CloseNow()
			return
		}
	}
}

// pingLoop drops a socket whose peer stops answering pings.
func (h *Handler) pingLoop(ctx context.Context, c *websocket.Conn, s *wsSink) {
	t := time.NewTicker(h.o.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, h.o.PingInterval)
		err := c.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			h.log.Info("events websocket ping timed out, dropping")
			s.Close("connection lost")
			_ = c.CloseNow()
			return
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
