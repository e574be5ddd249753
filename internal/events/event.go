package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Source is the EventBridge source of every event the platform emits; it
// is "aws.ivs" so that rules and consumers written for Amazon IVS match
// unchanged.
const Source = "aws.ivs"

// TimeFormat is the layout of Event.Time (EventBridge uses whole seconds).
const TimeFormat = "2006-01-02T15:04:05Z"

// Event is one EventBridge-shaped event. Its JSON form is what webhooks
// receive and exec targets read on stdin.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// newEventID returns a random UUID (version 4), as EventBridge ids are.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
