package model

import "fmt"

// NotFoundError: the named resource does not exist (ResourceNotFoundException).
type NotFoundError struct{ Resource string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("Resource: %s not found", e.Resource)
}

// NotFound builds a NotFoundError.
func NotFound(resource string) error { return &NotFoundError{Resource: resource} }

// ConflictError: the request conflicts with the resource's state
// (ConflictException).
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// Conflict builds a ConflictError.
func Conflict(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

// QuotaError: a service quota would be exceeded
// (ServiceQuotaExceededException).
type QuotaError struct {
	Quota string
	Limit int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("Request would exceed the %s quota of %d", e.Quota, e.Limit)
}

// NotBroadcastingError: the channel is offline (ChannelNotBroadcasting).
type NotBroadcastingError struct{ Channel string }

func (e *NotBroadcastingError) Error() string {
	return fmt.Sprintf("Channel: %s is not broadcasting", e.Channel)
}

// ThrottledError: a rate limit was hit (ThrottlingException).
type ThrottledError struct{ Msg string }

func (e *ThrottledError) Error() string { return e.Msg }

// UnavailableError: a dependency is not available right now; Code names the
// IVS exception (StreamUnavailable, ServiceUnavailable).
type UnavailableError struct{ Code, Msg string }

func (e *UnavailableError) Error() string { return e.Msg }

// AccessDeniedError: the caller may not do this (AccessDeniedException).
type AccessDeniedError struct{ Msg string }

func (e *AccessDeniedError) Error() string { return e.Msg }
