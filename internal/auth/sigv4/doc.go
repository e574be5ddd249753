// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) signed
// HTTP requests the way the Amazon IVS API does, so that the official AWS
// SDKs and CLIs can talk to Stagecast unchanged.
//
// # Responsibilities
//
// A [Verifier] checks the Authorization header of an incoming request:
// it parses the header, checks the credential scope (signing name "ivs" for
// both the ivs and ivs-realtime services, optional region allow-list), checks
// the X-Amz-Date timestamp against the allowed clock skew, looks up the
// secret access key through [Credentials], rebuilds the canonical request from
// what was seen on the wire and compares the signature in constant time.
// On success it returns the caller's [Identity]; on failure an [*Error] that
// carries the AWS error code, HTTP status and a client-safe message.
//
// Canonicalization follows the official SDKs (aws-sdk-go-v2 signer/v4 was the
// reference):
//
//   - URI: the escaped path exactly as sent (r.URL.EscapedPath), URI-encoded a
//     second time (every byte except A-Z a-z 0-9 - _ . ~ /). Non-S3 services
//     double-encode, so /tags/arn%3Aaws... is signed as /tags/arn%253Aaws...
//   - Query: decoded from r.URL.RawQuery ('+' means space, as in
//     url.ParseQuery), re-encoded with the unreserved set (space is %20) and
//     sorted by encoded name, then encoded value. A malformed query string is
//     refused instead of silently dropping the bad pairs.
//   - Headers: the names listed in SignedHeaders (which must be lower case,
//     sorted, unique and include host). Values of repeated headers are joined
//     with ","; each value is trimmed and inner runs of spaces are collapsed.
//     host comes from r.Host; content-length falls back to r.ContentLength
//     when the header map lacks it.
//   - Payload: the body is always hashed by the verifier; a client supplied
//     X-Amz-Content-Sha256 header is never trusted (so UNSIGNED-PAYLOAD does
//     not verify).
//
// X-Amz-Security-Token may be present and signed; Stagecast has no temporary
// credentials, so its value is covered by the signature but otherwise ignored.
// Presigned (query string) authentication is not supported and is refused
// with IncompleteSignatureException.
//
// # Request body
//
// Verify reads and buffers the body (at most [Options.MaxBodyBytes]; the
// default is [DefaultMaxBodyBytes]) because the signature covers its hash.
// It then replaces r.Body with an in-memory reader over the same bytes, so a
// handler can read it again. To avoid a second copy, the bytes are also
// returned in [Identity.Body] and can be fetched later from the request with
// [Body]. The body is read only after the cheap checks (header syntax, scope,
// key lookup, clock skew) pass, so unauthenticated clients cannot make the
// server buffer large bodies.
//
// # Concurrency and performance
//
// A Verifier is safe for concurrent use and starts no goroutines; Verify
// blocks only while reading the request body. Derived signing keys are cached
// per (access key id, secret, date, region) in a small bounded cache that is
// filled only after a successful verification. The canonical request and the
// string to sign are built in stack buffers and HMAC-SHA256 is computed with
// sha256.Sum256 over those buffers, so a typical verification allocates only
// the body buffer and its reader.
package sigv4
