package config

import (
	"errors"
	"fmt"
	"time"
)

// Ingest configures RTMP/RTMPS/SRT ingest: TLS certificate, reconnect
// window, limits. The listeners themselves are Config.RTMP, Config.RTMPS and
// Config.SRT.
type Ingest struct {
	// TLSCert and TLSKey are PEM files for RTMPS. Both empty: a self-signed
	// P-256 certificate for public_host, 127.0.0.1 and localhost is generated
	// at every start and kept in memory.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ReconnectWindow is how long a live session waits for its publisher to
	// come back after the connection dropped (not after a clean unpublish)
	// before the stream ends.
	ReconnectWindow time.Duration `yaml:"reconnect_window"`
	// MaxPublishers caps concurrent ingest connections per protocol
	// (RTMP, RTMPS and SRT each), including those still in the handshake.
	MaxPublishers int `yaml:"max_publishers"`
	// HandshakeTimeout bounds everything before media flows: the RTMP
	// handshake and connect/publish commands, the SRT handshake and the
	// wait for the codec configuration.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// ReadTimeout drops a publisher that sends nothing for this long. For
	// SRT it is the peer idle timeout.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// SRTLatency is the minimum SRT receiver latency (TSBPD delay); the
	// larger of this and the caller's is used.
	SRTLatency time.Duration `yaml:"srt_latency"`
}

// Ingest limits.
const (
	// maxIngestPublishers bounds max_publishers: each publisher costs a
	// goroutine, buffers and, downstream, a transcode ladder.
	maxIngestPublishers = 100000
	// maxIngestTimeout bounds the timeouts so that a typo ("10h") cannot
	// keep dead connections for a day.
	maxIngestTimeout = 10 * time.Minute
)

func defaultIngest() Ingest {
	return Ingest{
		ReconnectWindow:  10 * time.Second,
		MaxPublishers:    1000,
		HandshakeTimeout: 10 * time.Second,
		ReadTimeout:      10 * time.Second,
		SRTLatency:       120 * time.Millisecond,
	}
}

// validate reports invalid ingest settings (nil when valid).
func (c Ingest) validate() error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("ingest.tls_cert and ingest.tls_key: set both or neither"))
	}
	if c.ReconnectWindow < 0 || c.ReconnectWindow > maxIngestTimeout {
		errs = append(errs, fmt.Errorf("ingest.reconnect_window: %s is not 0-%s", c.ReconnectWindow, maxIngestTimeout))
	}
	if c.MaxPublishers < 1 || c.MaxPublishers > maxIngestPublishers {
		errs = append(errs, fmt.Errorf("ingest.max_publishers: %d is not 1-%d", c.MaxPublishers, maxIngestPublishers))
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"handshake_timeout", c.HandshakeTimeout}, {"read_timeout", c.ReadTimeout}} {
		if t.d < time.Second || t.d > maxIngestTimeout {
			errs = append(errs, fmt.Errorf("ingest.%s: %s is not 1s-%s", t.name, t.d, maxIngestTimeout))
		}
	}
	if c.SRTLatency < 20*time.Millisecond || c.SRTLatency > 10*time.Second {
		errs = append(errs, fmt.Errorf("ingest.srt_latency: %s is not 20ms-10s", c.SRTLatency))
	}
	return errors.Join(errs...)
}
