package app

import (
	"context"
	"fmt"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
	"github.com/stagecast/stagecast/internal/webrtc/signal"
)

// wireRealtime builds the WebRTC SFU, WHIP and the stage events WebSocket:
// the SFU shares one UDP port (realtime.udp_listen), records sessions and
// participants through a.Stages, publishes "IVS Stage Update" events, and
// is told about DisconnectParticipant through Stages.SetMedia.
func (a *App) wireRealtime(ctx context.Context) error {
	_ = ctx
	rc := a.cfg.Realtime
	cfg := sfu.Config{
		MaxPublishers: rc.MaxPublishers, MaxSubscribers: rc.MaxSubscribers,
		UDPListen: rc.UDPListen, NAT1To1IPs: rc.NAT1To1IPs,
		ICEDisconnectedTimeout: rc.ICEDisconnectedTimeout, ICEFailedTimeout: rc.ICEFailedTimeout,
		SessionEndDelay: rc.SessionEndDelay,
		Control:         a.Stages,
		Log:             a.log,
	}
	if a.Events != nil {
		cfg.Events = a.Events
	}
	srv, err := sfu.New(cfg)
	if err != nil {
		return fmt.Errorf("sfu: %w", err)
	}
	a.SFU = srv
	a.Stages.SetMedia(srv)
	h := signal.New(signal.Options{SFU: srv, Verifier: a.Stages, PingInterval: rc.WSPingInterval, Log: a.log})
	h.Register(a.mux)
	a.goRun("sfu", srv.Run)
	a.goRun("stage signalling", h.Run)
	// For an App that never runs: release the UDP port.
	a.onClose(srv.Close)
	return nil
}
