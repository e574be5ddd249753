package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// audioLevelURI is the RFC 6464 client-to-mixer audio level extension,
// passed through from publishers to subscribers.
const audioLevelURI = sdp.AudioLevelURI

// udpBuffer is the socket buffer size asked for the shared UDP port.
const udpBuffer = 8 << 20

// engine builds the pion APIs the SFU uses: one for publishers (NACK
// generator, receiver reports, TWCC feedback, simulcast extensions), one
// for subscribers (NACK responder, sender reports, TWCC sequence numbers)
// and, for subscribers of simulcast publishers, one that also runs a
// send-side bandwidth estimator (GCC over TWCC feedback).
type engine struct {
	pub, sub *webrtc.API
	subBWE   *webrtc.API

	// bweMu serialises creating BWE peer connections: the congestion
	// controller reports the new estimator synchronously from
	// NewPeerConnection, and pending receives it.
	bweMu   sync.Mutex
	pending cc.BandwidthEstimator

	mux net.PacketConn
}

// nackHistory is how many sent packets per subscriber stream are kept for
// retransmission (a power of two, as pion requires).
const nackHistory = 512

// registerCodecs registers the codecs the SFU forwards: Opus, VP8, H.264
// constrained baseline and main (packetization mode 1), with NACK, PLI/FIR
// and TWCC feedback, plus RTX for video.
func registerCodecs(m *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
		{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	video := []struct {
		pt   webrtc.PayloadType
		mime string
		fmtp string
	}{
		{96, webrtc.MimeTypeVP8, ""},
		{102, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
		{104, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		{106, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"},
		{108, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d0032"},
	}
	for _, v := range video {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: v.mime, ClockRate: 90000, SDPFmtpLine: v.fmtp, RTCPFeedback: videoFB},
			PayloadType:        v.pt,
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", v.pt)},
			PayloadType:        v.pt + 1,
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	return m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio)
}

func newEngine(cfg Config, log *slog.Logger) (*engine, error) {
	udp, err := net.ListenPacket("udp", cfg.UDPListen)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", cfg.UDPListen, err)
	}
	// Every connection shares this socket: give it room for bursts
	// (capped by net.core.rmem_max / wmem_max; best effort).
	if uc, ok := udp.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(udpBuffer)
		_ = uc.SetWriteBuffer(udpBuffer)
	}
	e := &engine{mux: udp}
	lf := pionLogs{log}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), udp))
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	keepAlive := max(cfg.ICEDisconnectedTimeout/3, 200*time.Millisecond)
	se.SetICETimeouts(cfg.ICEDisconnectedTimeout, cfg.ICEFailedTimeout, keepAlive)

	build := func(publisher, bwe bool) (*webrtc.API, error) {
		m := &webrtc.MediaEngine{}
		if err := registerCodecs(m); err != nil {
			return nil, err
		}
		reg := &interceptor.Registry{}
		if publisher {
			gen, err := nack.NewGeneratorInterceptor()
			if err != nil {
				return nil, err
			}
			reg.Add(gen)
			rr, err := report.NewReceiverInterceptor()
			if err != nil {
				return nil, err
			}
			reg.Add(rr)
			if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
				return nil, err
			}
			if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
				return nil, err
			}
		} else {
			// Each subscriber's video keeps its own copies of the last
			// nackHistory packets for retransmission (1.7 s at 2.5 Mbps):
			// at 1024 the copies were 300 MB of heap for 200 viewers.
			resp, err := nack.NewResponderInterceptor(nack.ResponderSize(nackHistory))
			if err != nil {
				return nil, err
			}
			reg.Add(resp)
			sr, err := report.NewSenderInterceptor()
			if err != nil {
				return nil, err
			}
			reg.Add(sr)
			if bwe {
				ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
					return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(1_000_000),
						gcc.SendSideBWEMaxBitrate(20_000_000), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
				})
				if err != nil {
					return nil, err
				}
				ccf.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { e.pending = est })
				reg.Add(ccf)
				// TWCC sequence numbers feed the estimator. Subscribers
				// of single-layer publishers have no layer to choose, so
				// they get none: no extension to write per packet and no
				// feedback to read.
				if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
					return nil, err
				}
			}
		}
		return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
	}
	if e.pub, err = build(true, false); err == nil {
		if e.sub, err = build(false, false); err == nil {
			e.subBWE, err = build(false, true)
		}
	}
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("webrtc api: %w", err)
	}
	log.Info("webrtc udp mux listening", "addr", udp.LocalAddr().String())
	return e, nil
}

// newSubscriberPC returns a subscriber peer connection and, when bwe is
// set, its bandwidth estimator.
func (e *engine) newSubscriberPC(bwe bool) (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	if !bwe {
		pc, err := e.sub.NewPeerConnection(webrtc.Configuration{})
		return pc, nil, err
	}
	e.bweMu.Lock()
	defer e.bweMu.Unlock()
	e.pending = nil
	pc, err := e.subBWE.NewPeerConnection(webrtc.Configuration{})
	est := e.pending
	e.pending = nil
	return pc, est, err
}

func (e *engine) close() { _ = e.mux.Close() }

// udpAddr is the bound UDP mux address.
func (e *engine) udpAddr() *net.UDPAddr { return e.mux.LocalAddr().(*net.UDPAddr) }
