package srt

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Limits on the SRT stream id.
const (
	// maxStreamIDLen is the SRT protocol's own limit on the stream id.
	maxStreamIDLen = 512
	// MaxStreamKeyLen bounds a stream key (IVS keys are about 60 bytes).
	MaxStreamKeyLen = 256
	// maxStreamIDFields bounds the "#!::k=v,..." pairs looked at.
	maxStreamIDFields = 16
)

// Reasons a stream id is refused.
var (
	errNoKey         = errors.New("no stream key in the stream id")
	errBadKey        = errors.New("stream key has characters or a length no key has")
	errNotPublish    = errors.New("stream id asks for a mode other than publish (this server only accepts publishers)")
	errStreamIDLimit = fmt.Errorf("stream id longer than %d bytes", maxStreamIDLen)
	errBadStreamID   = errors.New("malformed stream id")
)

// StreamKeyFromStreamID extracts the stream key from an SRT stream id. It
// accepts the plain key (as IVS documents: srt://host:port?streamid=<key>),
// the SRT access-control form "#!::r=<key>,m=publish" and "publish:<key>".
// A percent-encoded id is decoded first. Errors never contain the key.
func StreamKeyFromStreamID(id string) (string, error) {
	if len(id) > maxStreamIDLen {
		return "", errStreamIDLimit
	}
	if strings.Contains(id, "%") {
		// Some callers (ffmpeg 5.1 among them) pass the streamid URL
		// parameter on without decoding it; no key contains '%'.
		dec, err := url.QueryUnescape(id)
		if err != nil {
			return "", errBadStreamID
		}
		id = dec
	}
	var key string
	switch {
	case strings.HasPrefix(id, "#!::"):
		fields := strings.Split(id[4:], ",")
		if len(fields) > maxStreamIDFields {
			return "", errBadStreamID
		}
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return "", errBadStreamID
			}
			switch k {
			case "r":
				key = v
			case "m":
				if v != "publish" {
					return "", errNotPublish
				}
			}
		}
	case strings.HasPrefix(id, "publish:"):
		key = id[len("publish:"):]
	case strings.HasPrefix(id, "read:"), strings.HasPrefix(id, "request:"), strings.HasPrefix(id, "play:"):
		return "", errNotPublish
	default:
		key = id
	}
	if key == "" {
		return "", errNoKey
	}
	if len(key) > MaxStreamKeyLen {
		return "", errBadKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return "", errBadKey
		}
	}
	return key, nil
}
