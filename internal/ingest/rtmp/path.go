package rtmp

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on what a publisher sends as its URL.
const (
	// AppName is the only RTMP application Stagecast serves, as in IVS:
	// rtmp://<host>/app/<streamKey>.
	AppName = "app"
	// maxPathLen bounds the URL path (app + stream name) a client sends; IVS
	// keys are about 60 characters, real-time ingest keys about 100.
	maxPathLen = 1024
	// MaxStreamKeyLen bounds a stream key.
	MaxStreamKeyLen = 256
)

// Reasons a URL path is refused.
var (
	errBadApp    = errors.New("application name is not \"app\"")
	errNoKey     = errors.New("no stream key in the URL")
	errBadKey    = errors.New("stream key has characters or a length no key has")
	errPathLimit = fmt.Errorf("URL path longer than %d bytes", maxPathLen)
)

// StreamKeyFromPath extracts the stream key from the path of an RTMP URL,
// "/app/<streamKey>" (the tcUrl joined with the stream name). A trailing
// slash is tolerated. The returned error never contains the key.
func StreamKeyFromPath(path string) (string, error) {
	if len(path) > maxPathLen {
		return "", errPathLimit
	}
	path = strings.TrimPrefix(path, "/")
	app, key, _ := strings.Cut(path, "/")
	if app != AppName {
		return "", errBadApp
	}
	key = strings.TrimSuffix(key, "/")
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
