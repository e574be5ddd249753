package origin

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// PathPrefix is where the origin is mounted: IVS playback URLs are
// <base>/api/video/v1/<region>.<account>.channel.<id>.m3u8.
const PathPrefix = "/api/video/v1/"

// Request limits, with their reasons.
const (
	// maxPathLen: our longest path (prefix, channel, rendition, part
	// name) is under 200 bytes.
	maxPathLen = 512
	// maxRenditionLen: names like "1080p60" or "audio_only".
	maxRenditionLen = 32
	// maxTokenLen: an ES384 playback JWT with IVS claims is well under
	// 4 KiB.
	maxTokenLen = 4096
	// maxQueryLen bounds the whole query string.
	maxQueryLen = 8192
	// maxPartIndex: no segment holds more parts (30 s / 100 ms).
	maxPartIndex = 1000
)

var errBadPath = errors.New("bad path")

// target is a parsed request path.
type target struct {
	region, account, channelID string
	// rendition and file are empty for the multivariant playlist.
	rendition, file string
}

// channelARN returns the channel ARN the path names.
func (t target) channelARN() string {
	return "arn:aws:ivs:" + t.region + ":" + t.account + ":channel/" + t.channelID
}

// parsePath parses a path below PathPrefix.
func parsePath(p string) (target, error) {
	var t target
	if len(p) > maxPathLen {
		return t, errBadPath
	}
	rest, ok := strings.CutPrefix(p, PathPrefix)
	if !ok {
		return t, errBadPath
	}
	chanName, sub, hasSub := strings.Cut(rest, "/")
	if !hasSub {
		chanName, ok = strings.CutSuffix(chanName, ".m3u8")
		if !ok {
			return t, errBadPath
		}
	}
	f := strings.Split(chanName, ".")
	if len(f) != 4 || f[2] != "channel" || !isRegion(f[0]) || !isDigits(f[1], 12) || !isAlnum(f[3], 1, 64) {
		return t, errBadPath
	}
	t.region, t.account, t.channelID = f[0], f[1], f[3]
	if !hasSub {
		return t, nil
	}
	rendition, file, ok := strings.Cut(sub, "/")
	if !ok || !isName(rendition) || file == "" || strings.Contains(file, "/") {
		return t, errBadPath
	}
	t.rendition, t.file = rendition, file
	return t, nil
}

func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isName accepts rendition names: letters, digits, '_' and '-'.
func isName(s string) bool {
	if s == "" || len(s) > maxRenditionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// query is the part of a request's query string the origin uses.
type query struct {
	token string
	// msn >= 0 and part >= 0 when _HLS_msn/_HLS_part were given.
	msn     int64
	part    int
	hasMSN  bool
	hasPart bool
}

var errBadQuery = errors.New("bad query")

// parseQuery parses the raw query: token, _HLS_msn, _HLS_part (others,
// like _HLS_skip, are ignored).
func parseQuery(raw string) (query, error) {
	q := query{msn: -1, part: -1}
	if raw == "" {
		return q, nil
	}
	if len(raw) > maxQueryLen {
		return q, errBadQuery
	}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "token":
			if len(v) > maxTokenLen {
				return q, errBadQuery
			}
			t, err := url.QueryUnescape(v)
			if err != nil {
				return q, errBadQuery
			}
			q.token = t
		case "_HLS_msn":
			n, err := strconv.ParseUint(v, 10, 62)
			if err != nil {
				return q, errBadQuery
			}
			q.msn, q.hasMSN = int64(n), true
		case "_HLS_part":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n > maxPartIndex {
				return q, errBadQuery
			}
			q.part, q.hasPart = int(n), true
		}
	}
	if q.hasPart && !q.hasMSN {
		return q, errBadQuery
	}
	return q, nil
}
