package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// UserAgent is what the pion participants send.
const UserAgent = "stagecast-loadgen/1.0"

// Client is one stage participant over WHIP with pion: it holds the
// participant token and the media base URL.
type Client struct {
	// Base is the media listener URL ("http://127.0.0.1:8081"); Token the
	// participant token.
	Base, Token string
	HTTP        *http.Client
	// UserAgent overrides UserAgent.
	UserAgent string
	// WrapUDP, when set, wraps each peer connection's UDP socket: tests
	// use it to lose chosen packets on the way in.
	WrapUDP func(net.PacketConn) net.PacketConn
}

// HTTPError is a refused WHIP request.
type HTTPError struct {
	Status int
	Code   string
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("whip: status %d: %s", e.Status, e.Body) }

// Peer is one WHIP session: a pion PeerConnection on its own loopback UDP
// socket, so that Vanish can cut its network.
type Peer struct {
	PC       *webrtc.PeerConnection
	Location string
	c        *Client
	udp      net.PacketConn
	wg       sync.WaitGroup // RTCP readers, end with the connection
	pli      atomic.Uint64
}

// newPC builds a peer connection on a fresh 127.0.0.1 UDP socket with the
// default codecs and interceptors (NACK, reports, TWCC).
func (c *Client) newPC() (*webrtc.PeerConnection, net.PacketConn, error) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	if uc, ok := udp.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(1 << 20) // bursts while this process is busy
	}
	if c.WrapUDP != nil {
		udp = c.WrapUDP(udp)
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: sfu.DiscardPionLogs}
	se.SetICEUDPMux(webrtc.NewICEUDPMux(sfu.DiscardPionLogs.NewLogger("udpmux"), udp))
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetICETimeouts(3*time.Second, 2*time.Second, time.Second)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		_ = udp.Close()
		return nil, nil, err
	}
	return pc, udp, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) do(ctx context.Context, method, url, ctype, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = UserAgent
	}
	req.Header.Set("User-Agent", ua)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, b, err
}

// negotiate posts pc's offer to url and applies the answer.
func (c *Client) negotiate(ctx context.Context, pc *webrtc.PeerConnection, udp net.PacketConn, url string) (*Peer, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp, body, err := c.do(ctx, http.MethodPost, url, "application/sdp", pc.LocalDescription().SDP)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		he := &HTTPError{Status: resp.StatusCode, Body: string(body)}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil {
			he.Code = e.Error
		}
		return nil, he
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return nil, err
	}
	return &Peer{PC: pc, Location: resp.Header.Get("Location"), c: c, udp: udp}, nil
}

// Publish sends tracks (sendonly) over WHIP.
func (c *Client) Publish(ctx context.Context, tracks ...webrtc.TrackLocal) (*Peer, error) {
	pc, udp, err := c.newPC()
	if err != nil {
		return nil, err
	}
	var senders []*webrtc.RTPSender
	for _, t := range tracks {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			_ = pc.Close()
			_ = udp.Close()
			return nil, err
		}
		senders = append(senders, tr.Sender())
	}
	p, err := c.negotiate(ctx, pc, udp, c.Base+"/whip")
	if err != nil {
		_ = pc.Close()
		_ = udp.Close()
		return nil, err
	}
	for _, s := range senders {
		p.wg.Go(func() { drainRTCP(s, &p.pli) })
	}
	return p, nil
}

// PublishSimulcast sends one video track as simulcast layers (each track
// created with webrtc.WithRTPStreamID; same id and stream id).
func (c *Client) PublishSimulcast(ctx context.Context, layers ...*webrtc.TrackLocalStaticRTP) (*Peer, error) {
	if len(layers) == 0 {
		return nil, errors.New("no layers")
	}
	pc, udp, err := c.newPC()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Peer, error) {
		_ = pc.Close()
		_ = udp.Close()
		return nil, err
	}
	tr, err := pc.AddTransceiverFromTrack(layers[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fail(err)
	}
	for _, l := range layers[1:] {
		if err := tr.Sender().AddEncoding(l); err != nil {
			return fail(err)
		}
	}
	p, err := c.negotiate(ctx, pc, udp, c.Base+"/whip")
	if err != nil {
		return fail(err)
	}
	p.wg.Go(func() { drainRTCP(tr.Sender(), &p.pli) })
	return p, nil
}

// drainRTCP reads a sender's RTCP (driving its interceptors) and counts
// key frame requests (PLI, FIR) into pli.
func drainRTCP(s *webrtc.RTPSender, pli *atomic.Uint64) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				pli.Add(1)
			}
		}
	}
}

// KeyFrameRequests counts the PLI/FIR the server sent this publisher.
func (p *Peer) KeyFrameRequests() uint64 { return p.pli.Load() }

// Subscribe receives target's tracks (recvonly audio and video); onTrack
// runs for each track on pion's goroutine and should start a reader.
func (c *Client) Subscribe(ctx context.Context, target string, onTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)) (*Peer, error) {
	pc, udp, err := c.newPC()
	if err != nil {
		return nil, err
	}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			_ = udp.Close()
			return nil, err
		}
	}
	pc.OnTrack(onTrack)
	p, err := c.negotiate(ctx, pc, udp, c.Base+"/whip/subscribe/"+target)
	if err != nil {
		_ = pc.Close()
		_ = udp.Close()
		return nil, err
	}
	return p, nil
}

// WaitConnected waits for the peer connection to connect.
func (p *Peer) WaitConnected(ctx context.Context) error {
	ch := make(chan struct{})
	var once sync.Once
	p.PC.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(ch) })
		}
	})
	if p.PC.ConnectionState() == webrtc.PeerConnectionStateConnected {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("peer connection state %s: %w", p.PC.ConnectionState(), ctx.Err())
	}
}

// Close leaves: WHIP DELETE, then closes the peer connection.
func (p *Peer) Close(ctx context.Context) error {
	loc := p.Location
	if !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") {
		loc = p.c.Base + loc
	}
	resp, _, err := p.c.do(ctx, http.MethodDelete, loc, "", "")
	cerr := p.PC.Close()
	_ = p.udp.Close()
	p.wg.Wait()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("whip delete: status %d", resp.StatusCode)
	}
	return errors.Join(err, cerr)
}

// Vanish cuts the peer's network without a goodbye: its UDP socket is
// closed, so neither DTLS close nor ICE consent reaches the server.
func (p *Peer) Vanish() {
	_ = p.udp.Close()
}

// Release frees a vanished peer's resources (no packet leaves).
func (p *Peer) Release() {
	_ = p.PC.Close()
	p.wg.Wait()
}

// Events is a participant's events WebSocket.
type Events struct {
	C    <-chan sfu.Event // closed when the socket ends
	conn *websocket.Conn
	done chan struct{}
}

// Events connects the events WebSocket for stageID; it reads until the
// socket ends (so the server's pings are answered).
func (c *Client) Events(ctx context.Context, stageID string) (*Events, error) {
	u := "ws" + strings.TrimPrefix(c.Base, "http") + "/events/" + stageID
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{c.Token},
		HTTPHeader: http.Header{"User-Agent": {UserAgent}}})
	if err != nil {
		if resp != nil {
			return nil, &HTTPError{Status: resp.StatusCode, Body: err.Error()}
		}
		return nil, err
	}
	ch := make(chan sfu.Event, 256)
	e := &Events{C: ch, conn: conn, done: make(chan struct{})}
	go func() { // owned by Events: Close and Drop wait for it
		defer close(e.done)
		defer close(ch)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var ev sfu.Event
			if json.Unmarshal(b, &ev) == nil {
				select {
				case ch <- ev:
				default: // a test that stops reading loses events
				}
			}
		}
	}()
	return e, nil
}

// Send writes a client message (e.g. mute).
func (e *Events) Send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.conn.Write(ctx, websocket.MessageText, b)
}

// Close closes the socket cleanly and waits for the reader.
func (e *Events) Close() {
	_ = e.conn.Close(websocket.StatusNormalClosure, "bye")
	<-e.done
}

// Drop closes the TCP connection without a close frame.
func (e *Events) Drop() {
	_ = e.conn.CloseNow()
	<-e.done
}

// Next returns the next event of one of the types (others are skipped).
func (e *Events) Next(ctx context.Context, types ...string) (sfu.Event, error) {
	for {
		select {
		case ev, ok := <-e.C:
			if !ok {
				return sfu.Event{}, errors.New("events socket closed")
			}
			if len(types) == 0 || bytes.Contains([]byte(","+strings.Join(types, ",")+","), []byte(","+ev.Type+",")) {
				return ev, nil
			}
		case <-ctx.Done():
			return sfu.Event{}, fmt.Errorf("waiting for %v: %w", types, ctx.Err())
		}
	}
}
