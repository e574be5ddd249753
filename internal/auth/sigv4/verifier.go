package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultService is the SigV4 signing name of both IVS services
	// (ivs and ivs-realtime).
	DefaultService = "ivs"

	// DefaultMaxSkew is how far X-Amz-Date may be from the server clock,
	// the same 15 minutes AWS allows.
	DefaultMaxSkew = 15 * time.Minute

	// DefaultMaxBodyBytes bounds the body buffered for hashing. The largest
	// IVS request bodies (CreateParticipantToken, StartComposition with
	// layouts and tags, PutMetadata's 1 KiB payload) are a few KiB; 1 MiB is
	// far above any valid request while bounding memory per request.
	DefaultMaxBodyBytes int64 = 1 << 20

	// amzDateLayout is the X-Amz-Date format (ISO 8601 basic, UTC).
	amzDateLayout = "20060102T150405Z"

	// emptySHA256 is hex(SHA-256("")).
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Credentials looks up the secret access key of an access key id.
// Implementations must be safe for concurrent use and fast: SecretFor is
// called once per request.
type Credentials interface {
	SecretFor(accessKeyID string) (secret string, ok bool)
}

// Options configures a [Verifier]. The zero value is usable.
type Options struct {
	// Service is the signing name required in the credential scope.
	// Default [DefaultService].
	Service string
	// MaxSkew is the allowed difference between X-Amz-Date and Now.
	// Default [DefaultMaxSkew].
	MaxSkew time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Regions, if not empty, lists the regions accepted in the credential
	// scope. Empty accepts any well-formed region (SDKs sign with their
	// configured region even when the endpoint is overridden).
	Regions []string
	// MaxBodyBytes bounds the buffered request body.
	// Default [DefaultMaxBodyBytes].
	MaxBodyBytes int64
}

// Identity is the authenticated caller of a verified request.
type Identity struct {
	// AccessKeyID is the access key id that signed the request.
	AccessKeyID string
	// Region is the region from the credential scope.
	Region string
	// Body is the complete request body that was verified (nil if empty).
	// r.Body has been replaced by a reader over the same bytes; handlers
	// should use Body (or [Body]) rather than read r.Body again, which
	// would copy it. Do not modify it.
	Body []byte
}

// Verifier verifies SigV4 signed requests. It is safe for concurrent use.
type Verifier struct {
	creds   Credentials
	service string
	maxSkew time.Duration
	now     func() time.Time
	regions []string
	maxBody int64
	keys    keyCache
}

// NewVerifier returns a Verifier that looks up secrets in creds.
func NewVerifier(creds Credentials, opts Options) *Verifier {
	v := &Verifier{
		creds:   creds,
		service: opts.Service,
		maxSkew: opts.MaxSkew,
		now:     opts.Now,
		regions: slices.Clone(opts.Regions),
		maxBody: opts.MaxBodyBytes,
	}
	if v.service == "" {
		v.service = DefaultService
	}
	if v.maxSkew <= 0 {
		v.maxSkew = DefaultMaxSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxBody <= 0 {
		v.maxBody = DefaultMaxBodyBytes
	}
	return v
}

// Verify authenticates r. On success it returns the caller's identity and
// r.Body has been replaced by an in-memory reader over Identity.Body. On
// failure the error is an [*Error] carrying the AWS code and HTTP status.
func (v *Verifier) Verify(r *http.Request) (Identity, error) {
	authz := r.Header["Authorization"]
	if len(authz) == 0 {
		if isPresigned(r.URL.RawQuery) {
			return Identity{}, errIncomplete("Presigned query string authentication is not supported; sign the request with the Authorization header.")
		}
		return Identity{}, errMissing()
	}
	if len(authz) > 1 {
		return Identity{}, errIncomplete("Request contains more than one Authorization header.")
	}
	a, perr := parseAuthorization(authz[0])
	if perr != nil {
		return Identity{}, perr
	}
	if a.service != v.service {
		return Identity{}, errInvalid("Credential should be scoped to correct service: '" + v.service + "'.")
	}
	if len(v.regions) > 0 && !slices.Contains(v.regions, a.region) {
		return Identity{}, errInvalid("Credential should be scoped to a valid region, not '" + a.region + "'.")
	}

	dates := r.Header["X-Amz-Date"]
	if len(dates) != 1 {
		return Identity{}, errIncomplete("Authorization header requires existence of exactly one 'X-Amz-Date' header.")
	}
	amzDate := dates[0]
	signedAt, ok := parseAmzDate(amzDate)
	if !ok {
		return Identity{}, errIncomplete("X-Amz-Date must have the form yyyyMMddTHHmmssZ.")
	}
	if amzDate[:8] != a.date {
		return Identity{}, errInvalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			a.date + "' != '" + amzDate[:8] + "', from '" + amzDate + "'.")
	}

	secret, ok := v.creds.SecretFor(a.accessKeyID)
	if !ok {
		return Identity{}, errUnrecognized()
	}

	now := v.now()
	if earliest := now.Add(-v.maxSkew); signedAt.Before(earliest) {
		return Identity{}, errInvalid("Signature expired: " + amzDate + " is now earlier than " +
			earliest.UTC().Format(amzDateLayout) + " (" + now.UTC().Format(amzDateLayout) + " - " + skewText(v.maxSkew) + ".)")
	}
	if latest := now.Add(v.maxSkew); signedAt.After(latest) {
		return Identity{}, errInvalid("Signature not yet current: " + amzDate + " is still later than " +
			latest.UTC().Format(amzDateLayout) + " (" + now.UTC().Format(amzDateLayout) + " + " + skewText(v.maxSkew) + ".)")
	}

	// Canonical request; the body is read last so that a request refused
	// for a malformed query string is never buffered.
	var crBuf [2048]byte
	cr := crBuf[:0]
	cr = append(cr, r.Method...)
	cr = append(cr, '\n')
	cr = appendCanonicalURI(cr, r)
	cr = append(cr, '\n')
	cr, ok = appendCanonicalQuery(cr, r.URL.RawQuery)
	if !ok {
		return Identity{}, errValidation(http.StatusBadRequest, "The request query string is malformed.", nil)
	}
	cr = append(cr, '\n')
	cr = appendCanonicalHeaders(cr, r, a.signedHeaders)
	cr = append(cr, '\n')
	cr = append(cr, a.signedHeaders...)
	cr = append(cr, '\n')
	body, berr := readBody(r, v.maxBody)
	if berr != nil {
		return Identity{}, berr
	}
	if len(body) == 0 {
		cr = append(cr, emptySHA256...)
	} else {
		sum := sha256.Sum256(body)
		cr = appendHex(cr, sum[:])
	}
	crHash := sha256.Sum256(cr)

	// String to sign, written after a 64-byte HMAC block so that the
	// signature is computed over one contiguous buffer.
	var stsBuf [hmacBlock + 256]byte
	sts := stsBuf[:hmacBlock]
	sts = append(sts, Algorithm...)
	sts = append(sts, '\n')
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, a.scope...)
	sts = append(sts, '\n')
	sts = appendHex(sts, crHash[:])

	key, cached := v.keys.get(a.accessKeyID, secret, a.date, a.region)
	if !cached {
		key = deriveKey(secret, a.date, a.region, v.service)
	}
	want := hmacSHA256Prefixed(&key, sts)
	if !hmac.Equal(want[:], a.signature[:]) {
		return Identity{}, errInvalid(msgSignatureMismatch)
	}
	if !cached {
		v.keys.put(a.accessKeyID, secret, a.date, a.region, key)
	}
	return Identity{AccessKeyID: a.accessKeyID, Region: a.region, Body: body}, nil
}

// isPresigned reports whether the raw query looks like SigV4 query string
// authentication.
func isPresigned(rawQuery string) bool {
	return strings.Contains(rawQuery, "X-Amz-Signature=") ||
		strings.Contains(rawQuery, "X-Amz-Credential=") ||
		strings.Contains(rawQuery, "X-Amz-Algorithm=")
}

// parseAmzDate parses exactly "yyyyMMddTHHmmssZ".
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) || s[8] != 'T' || s[15] != 'Z' ||
		!allDigits(s[:8]) || !allDigits(s[9:15]) {
		return time.Time{}, false
	}
	n := func(i, j int) int {
		v := 0
		for _, c := range []byte(s[i:j]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := n(0, 4), n(4, 6), n(6, 8)
	hour, minute, sec := n(9, 11), n(11, 13), n(13, 15)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // e.g. 20240231 normalized into March
		return time.Time{}, false
	}
	return t, true
}

// skewText renders the skew like AWS does ("15 min").
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

func appendHex(dst []byte, src []byte) []byte {
	var buf [64]byte
	for len(src) > 0 {
		n := min(len(src), len(buf)/2)
		hex.Encode(buf[:], src[:n])
		dst = append(dst, buf[:2*n]...)
		src = src[n:]
	}
	return dst
}
