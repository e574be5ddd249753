package sigv4

import (
	"cmp"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxQueryParams bounds the number of query parameters we canonicalize. The
// IVS API's only multi-valued query parameter is UntagResource's tagKeys
// (at most 50 keys); 256 leaves headroom while bounding sort work.
const maxQueryParams = 256

const upperHex = "0123456789ABCDEF"

// unreserved marks the RFC 3986 unreserved bytes: A-Z a-z 0-9 - _ . ~
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'], t['.'], t['~'] = true, true, true, true
	return t
}()

// appendURIEncoded appends s percent-encoding every byte outside the
// unreserved set (and outside '/' when keepSlash), with upper-case hex.
func appendURIEncoded(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] || (keepSlash && c == '/') {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// appendCanonicalURI appends the canonical URI: the escaped path as seen on
// the wire, encoded once more (non-S3 SigV4 double-encodes).
func appendCanonicalURI(dst []byte, r *http.Request) []byte {
	p := r.URL.EscapedPath()
	if p == "" {
		return append(dst, '/')
	}
	return appendURIEncoded(dst, p, true)
}

type queryParam struct{ name, value string }

// appendCanonicalQuery appends the canonical query string built from raw
// (r.URL.RawQuery). Pairs are decoded like url.ParseQuery ('+' is a space,
// empty segments are skipped), re-encoded with the unreserved set and sorted
// by encoded name, then encoded value. ok is false for a malformed query
// (invalid escape, ';' separator, too many parameters): the signer would
// have dropped such pairs, so the request is refused rather than guessed.
func appendCanonicalQuery(dst []byte, raw string) (_ []byte, ok bool) {
	if raw == "" {
		return dst, true
	}
	var stack [16]queryParam
	params := stack[:0]
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		if strings.IndexByte(seg, ';') >= 0 {
			return dst, false
		}
		if len(params) == maxQueryParams {
			return dst, false
		}
		k, v, _ := strings.Cut(seg, "=")
		k, ok1 := canonicalQueryComponent(k)
		v, ok2 := canonicalQueryComponent(v)
		if !ok1 || !ok2 {
			return dst, false
		}
		params = append(params, queryParam{k, v})
	}
	slices.SortFunc(params, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return cmp.Compare(a.value, b.value)
	})
	for i, p := range params {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.name...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst, true
}

// canonicalQueryComponent decodes a raw query component and re-encodes it
// with the SigV4 rules. Components that are already canonical (the common
// case: SDKs send the canonical query) are returned without allocating.
func canonicalQueryComponent(s string) (string, bool) {
	canonical := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] {
			continue
		}
		if c == '%' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]) {
			// An escape of an unreserved byte is not canonical (it must
			// be decoded), anything else stays as it is.
			if unreserved[unhex(s[i+1])<<4|unhex(s[i+2])] {
				canonical = false
				break
			}
			i += 2
			continue
		}
		canonical = false
		break
	}
	if canonical {
		return s, true
	}
	dec, err := url.QueryUnescape(s)
	if err != nil {
		return "", false
	}
	return string(appendURIEncoded(nil, dec, false)), true
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}

// appendCanonicalHeaders appends "name:value\n" for every name in the
// validated SignedHeaders list.
func appendCanonicalHeaders(dst []byte, r *http.Request, signedHeaders string) []byte {
	for rest := signedHeaders; ; {
		name, r2, more := strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		switch name {
		case "host":
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			dst = appendHeaderValue(dst, host)
		case "content-length":
			if vals := r.Header["Content-Length"]; len(vals) > 0 {
				dst = appendHeaderValues(dst, vals)
			} else if r.ContentLength >= 0 {
				dst = strconv.AppendInt(dst, r.ContentLength, 10)
			}
		default:
			dst = appendHeaderValues(dst, headerValues(r.Header, name))
		}
		dst = append(dst, '\n')
		if !more {
			return dst
		}
		rest = r2
	}
}

// headerValues looks up a lower case header name in h, which is keyed by
// canonical MIME header keys, without allocating for common names.
func headerValues(h http.Header, lower string) []string {
	var buf [64]byte
	if len(lower) > len(buf) {
		return h[textproto.CanonicalMIMEHeaderKey(lower)]
	}
	upper := true
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
		upper = c == '-'
	}
	return h[string(buf[:len(lower)])]
}

func appendHeaderValues(dst []byte, vals []string) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHeaderValue(dst, v)
	}
	return dst
}

// appendHeaderValue appends v trimmed (strings.TrimSpace) with inner runs of
// spaces collapsed to one, which is what the SDK signers compute.
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return append(dst, v...)
	}
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		dst = append(dst, c)
	}
	return dst
}
