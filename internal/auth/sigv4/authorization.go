package sigv4

import "strings"

const (
	// Algorithm is the only signing algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"

	// scopeTerminator ends every SigV4 credential scope.
	scopeTerminator = "aws4_request"

	// maxAuthorizationBytes bounds the Authorization header we parse. SDK
	// headers are ~250 bytes; 8 KiB leaves room for long SignedHeaders lists
	// while keeping parsing cost bounded.
	maxAuthorizationBytes = 8 << 10

	// maxSignedHeaders bounds the SignedHeaders list. SDKs sign 6-10 headers;
	// 64 is generous and caps the work spent canonicalizing headers.
	maxSignedHeaders = 64

	// maxAccessKeyIDBytes is the longest access key id AWS allows (IAM: 128).
	maxAccessKeyIDBytes = 128

	// maxRegionBytes bounds the region in the credential scope; real region
	// names are under 20 bytes.
	maxRegionBytes = 32

	// signatureHexLen is the length of a hex encoded HMAC-SHA256.
	signatureHexLen = 64
)

// authorization is a parsed Authorization header. All strings are substrings
// of the header value.
type authorization struct {
	accessKeyID   string
	scope         string // date/region/service/aws4_request
	date          string // yyyymmdd
	region        string
	service       string
	signedHeaders string // "a;b;c", validated
	signature     [32]byte
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/<service>/aws4_request,
// SignedHeaders=<h1;h2>, Signature=<hex>". It checks syntax only; the scope
// values are checked by the Verifier.
func parseAuthorization(h string) (authorization, *Error) {
	var a authorization
	if len(h) > maxAuthorizationBytes {
		return a, errIncomplete("Authorization header is too long.")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return a, errIncomplete("Unsupported Authorization Type; expected " + Algorithm + ".")
	}
	var credential, signedHeaders, signature string
	var haveCred, haveSigned, haveSig bool
	for more := trimSpaces(rest) != ""; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		part = trimSpaces(part)
		if part == "" {
			return a, errIncomplete("Authorization header contains an empty parameter.")
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, errIncomplete("Authorization header parameter is not of the form name=value.")
		}
		switch name {
		case "Credential":
			if haveCred {
				return a, errIncomplete("Authorization header repeats the 'Credential' parameter.")
			}
			credential, haveCred = value, true
		case "SignedHeaders":
			if haveSigned {
				return a, errIncomplete("Authorization header repeats the 'SignedHeaders' parameter.")
			}
			signedHeaders, haveSigned = value, true
		case "Signature":
			if haveSig {
				return a, errIncomplete("Authorization header repeats the 'Signature' parameter.")
			}
			signature, haveSig = value, true
		default:
			return a, errIncomplete("Authorization header contains an unknown parameter.")
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		var b strings.Builder
		if !haveCred {
			b.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSigned {
			b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if !haveSig {
			b.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		return a, errIncomplete(strings.TrimSuffix(b.String(), " "))
	}

	// Credential=<akid>/<date>/<region>/<service>/aws4_request
	akid, scope, ok := strings.Cut(credential, "/")
	if !ok || akid == "" || len(akid) > maxAccessKeyIDBytes {
		return a, errIncomplete("Credential must have the form <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.")
	}
	date, s, ok1 := strings.Cut(scope, "/")
	region, s, ok2 := strings.Cut(s, "/")
	service, term, ok3 := strings.Cut(s, "/")
	if !ok1 || !ok2 || !ok3 {
		return a, errIncomplete("Credential must have the form <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.")
	}
	if term != scopeTerminator {
		return a, errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request'.")
	}
	if len(date) != 8 || !allDigits(date) {
		return a, errIncomplete("Credential date must have the form yyyymmdd.")
	}
	if !validRegion(region) {
		return a, errIncomplete("Credential should be scoped to a valid region.")
	}
	if service == "" {
		return a, errIncomplete("Credential should be scoped to a service.")
	}
	if err := validateSignedHeaders(signedHeaders); err != nil {
		return a, err
	}
	if !decodeSignature(&a.signature, signature) {
		return a, errIncomplete("Signature must be 64 lower-case hexadecimal characters.")
	}
	a.accessKeyID = akid
	a.scope = scope
	a.date = date
	a.region = region
	a.service = service
	a.signedHeaders = signedHeaders
	return a, nil
}

// validateSignedHeaders checks that the list is non-empty, lower case token
// names, strictly ascending (sorted, no duplicates), bounded, and contains
// host. The SDKs always produce such lists; enforcing it keeps the canonical
// request unambiguous.
func validateSignedHeaders(list string) *Error {
	if list == "" {
		return errIncomplete("SignedHeaders must not be empty.")
	}
	var prev string
	n := 0
	haveHost := false
	for rest := list; ; {
		name, r, more := strings.Cut(rest, ";")
		if name == "" || !validHeaderName(name) {
			return errIncomplete("SignedHeaders must be a ';' separated list of lower-case header names.")
		}
		if n > 0 && name <= prev {
			return errIncomplete("SignedHeaders must be sorted and must not repeat a header.")
		}
		if name == "host" {
			haveHost = true
		}
		n++
		if n > maxSignedHeaders {
			return errIncomplete("SignedHeaders lists too many headers.")
		}
		prev = name
		if !more {
			break
		}
		rest = r
	}
	if !haveHost {
		return errIncomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// validHeaderName reports whether s is a lower case HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !headerNameByte[s[i]] {
			return false
		}
	}
	return true
}

// headerNameByte marks the bytes allowed in a lower case header name.
var headerNameByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

// validRegion accepts region-like names: 1-32 bytes of a-z, 0-9 and '-'.
func validRegion(s string) bool {
	if s == "" || len(s) > maxRegionBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeSignature decodes 64 lower-case hex characters into dst.
func decodeSignature(dst *[32]byte, s string) bool {
	if len(s) != signatureHexLen {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHexLower(s[2*i])
		lo, ok2 := fromHexLower(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHexLower(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// trimSpaces removes leading and trailing ASCII spaces and tabs.
func trimSpaces(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
