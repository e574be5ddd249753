package sigv4

import "net/http"

// AWS error codes returned in [Error.Code].
const (
	// CodeMissingAuthenticationToken: the request carries no Authorization
	// header at all (HTTP 403).
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the Authorization header or a header it
	// depends on (X-Amz-Date) is malformed (HTTP 400).
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeInvalidSignature: the signature does not match, the request is
	// outside the allowed clock skew or the credential scope is wrong (HTTP 403).
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeUnrecognizedClient: the access key id is unknown (HTTP 403).
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeValidation: the request itself is unusable (body too large or
	// unreadable, malformed query string). ValidationException is modeled
	// by every IVS operation, so SDKs surface it as a typed error.
	CodeValidation = "ValidationException"
)

// Error is the error returned by [Verifier.Verify]. Code and Status are what
// the API should answer (header X-Amzn-ErrorType and the HTTP status);
// Message is safe to send to the client: it never contains a secret or the
// expected signature.
type Error struct {
	// Code is the AWS error code, one of the Code* constants.
	Code string
	// Status is the HTTP status to answer with.
	Status int
	// Message is the client-facing, AWS-style message.
	Message string
	// Err is the underlying cause, if any (for example a body read error).
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	s := "sigv4: " + e.Code + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func errMissing() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Status: http.StatusForbidden, Message: "Missing Authentication Token"}
}

func errIncomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Status: http.StatusBadRequest, Message: msg}
}

func errInvalid(msg string) *Error {
	return &Error{Code: CodeInvalidSignature, Status: http.StatusForbidden, Message: msg}
}

func errUnrecognized() *Error {
	return &Error{Code: CodeUnrecognizedClient, Status: http.StatusForbidden, Message: "The security token included in the request is invalid."}
}

func errValidation(status int, msg string, cause error) *Error {
	return &Error{Code: CodeValidation, Status: status, Message: msg, Err: cause}
}

const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
