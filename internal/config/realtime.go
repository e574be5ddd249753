package config

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Realtime configures the WebRTC SFU (stages): participant caps, the UDP
// port media flows through, the addresses announced in ICE candidates and
// the liveness timeouts.
type Realtime struct {
	// MaxPublishers caps publishing participants per stage (IVS quota 12).
	MaxPublishers int `yaml:"max_publishers"`
	// MaxSubscribers caps subscribe sessions across the node.
	MaxSubscribers int `yaml:"max_subscribers"`
	// UDPListen is the single UDP host:port every peer connection shares
	// (ICE UDP mux). Port 0 picks a free port at start; production set-ups
	// pin one and open it in the firewall.
	UDPListen string `yaml:"udp_listen"`
	// NAT1To1IPs are public addresses announced as host candidates instead
	// of the bound one (the server sits behind 1:1 NAT). Empty: the bound
	// address itself.
	NAT1To1IPs []string `yaml:"nat_1to1_ips"`
	// ICEDisconnectedTimeout is how long without inbound packets (consent
	// freshness) before a connection counts as disconnected;
	// ICEFailedTimeout is the further time before it fails; the keep-alive
	// interval is a third of the disconnected timeout.
	ICEDisconnectedTimeout time.Duration `yaml:"ice_disconnected_timeout"`
	ICEFailedTimeout       time.Duration `yaml:"ice_failed_timeout"`
	// WSPingInterval is how often the events WebSocket is pinged; a peer
	// that does not answer within the same interval is dropped.
	WSPingInterval time.Duration `yaml:"ws_ping_interval"`
	// SessionEndDelay is how long a stage session stays open after its last
	// participant left (a rejoin within it continues the same session).
	SessionEndDelay time.Duration `yaml:"session_end_delay"`
}

// Realtime limits.
const (
	maxRealtimePublishers  = 12 // IVS quota: publishers per stage
	maxRealtimeSubscribers = 1_000_000
	maxRealtimeTimeout     = 5 * time.Minute
)

func defaultRealtime() Realtime {
	return Realtime{
		MaxPublishers:          12,
		MaxSubscribers:         10000,
		UDPListen:              "127.0.0.1:0",
		ICEDisconnectedTimeout: 3 * time.Second,
		ICEFailedTimeout:       2 * time.Second,
		WSPingInterval:         2 * time.Second,
		SessionEndDelay:        30 * time.Second,
	}
}

// validate reports invalid realtime settings (nil when valid).
func (c Realtime) validate() error {
	var errs []error
	if c.MaxPublishers < 1 || c.MaxPublishers > maxRealtimePublishers {
		errs = append(errs, fmt.Errorf("realtime.max_publishers: %d is not 1-%d", c.MaxPublishers, maxRealtimePublishers))
	}
	if c.MaxSubscribers < 1 || c.MaxSubscribers > maxRealtimeSubscribers {
		errs = append(errs, fmt.Errorf("realtime.max_subscribers: %d is not 1-%d", c.MaxSubscribers, maxRealtimeSubscribers))
	}
	if _, _, err := net.SplitHostPort(c.UDPListen); err != nil {
		errs = append(errs, fmt.Errorf("realtime.udp_listen: %q is not host:port", c.UDPListen))
	}
	for _, ip := range c.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("realtime.nat_1to1_ips: %q is not an IP address", ip))
		}
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"ice_disconnected_timeout", c.ICEDisconnectedTimeout}, {"ice_failed_timeout", c.ICEFailedTimeout},
		{"ws_ping_interval", c.WSPingInterval}, {"session_end_delay", c.SessionEndDelay},
	} {
		if t.d < 100*time.Millisecond || t.d > maxRealtimeTimeout {
			errs = append(errs, fmt.Errorf("realtime.%s: %s is not 100ms-%s", t.name, t.d, maxRealtimeTimeout))
		}
	}
	if c.ICEDisconnectedTimeout+c.ICEFailedTimeout > 8*time.Second {
		errs = append(errs, errors.New("realtime: ice_disconnected_timeout + ice_failed_timeout must stay under 8s so that a vanished participant leaves within 10s"))
	}
	return errors.Join(errs...)
}
