package model

import (
	"fmt"
	"net"
	"strconv"
)

// Identity is who this server is: the region and account in its ARNs and the
// public endpoints it hands out in channel and stage resources.
type Identity struct {
	Region    string
	AccountID string
	// PublicHost is the host name or address clients use to reach us.
	PublicHost string
	// Ports clients connect to (public side).
	RTMPPort  int
	RTMPSPort int
	SRTPort   int
	// MediaBaseURL is the base URL of the media HTTP listener (playback,
	// WHIP, stage events, web pages), e.g. "http://127.0.0.1:8081".
	MediaBaseURL string
}

// ARN builds arn:aws:ivs:<region>:<account>:<typ>/<id>.
func (i Identity) ARN(typ, id string) string {
	return "arn:aws:ivs:" + i.Region + ":" + i.AccountID + ":" + typ + "/" + id
}

func hostPort(host string, port, standard int) string {
	if port == standard {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// IngestEndpoint is a channel's ingestEndpoint. As in IVS it is the bare
// host when RTMPS listens on the standard port 443; otherwise it carries
// the RTMPS port ("host:4443"), so rtmps://<ingestEndpoint>/app/ works.
func (i Identity) IngestEndpoint() string { return hostPort(i.PublicHost, i.RTMPSPort, 443) }

// RTMPURL is the plain RTMP publish URL (insecure ingest).
func (i Identity) RTMPURL() string {
	return fmt.Sprintf("rtmp://%s/app/", net.JoinHostPort(i.PublicHost, strconv.Itoa(i.RTMPPort)))
}

// RTMPSURL is the RTMPS publish URL.
func (i Identity) RTMPSURL() string {
	return fmt.Sprintf("rtmps://%s/app/", net.JoinHostPort(i.PublicHost, strconv.Itoa(i.RTMPSPort)))
}

// SRTEndpoint is a channel's srt.endpoint ("host:port"); publishers use
// srt://<endpoint>?streamid=<stream key>&passphrase=<passphrase>.
func (i Identity) SRTEndpoint() string {
	return net.JoinHostPort(i.PublicHost, strconv.Itoa(i.SRTPort))
}

// PlaybackURL is a channel's multivariant playlist URL, in IVS's path form.
func (i Identity) PlaybackURL(channelID string) string {
	return fmt.Sprintf("%s/api/video/v1/%s.%s.channel.%s.m3u8", i.MediaBaseURL, i.Region, i.AccountID, channelID)
}

// WhipURL is the stages' WHIP endpoint (publish: POST here; subscribe:
// POST <whip>/subscribe/<participantId>).
func (i Identity) WhipURL() string { return i.MediaBaseURL + "/whip" }

// EventsURL is the stages' event WebSocket endpoint (ws://.../events;
// clients connect to <events>/<stage id>).
func (i Identity) EventsURL() string {
	u := i.MediaBaseURL
	switch {
	case len(u) > 8 && u[:8] == "https://":
		u = "wss://" + u[8:]
	case len(u) > 7 && u[:7] == "http://":
		u = "ws://" + u[7:]
	}
	return u + "/events"
}
