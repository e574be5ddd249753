package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// bufferedBody replaces r.Body after verification: a reader over the bytes
// that were hashed, which [Body] can hand out without copying.
type bufferedBody struct {
	data []byte
	rd   bytes.Reader
}

func (b *bufferedBody) Read(p []byte) (int, error) { return b.rd.Read(p) }

// WriteTo lets io.Copy avoid an intermediate buffer.
func (b *bufferedBody) WriteTo(w io.Writer) (int64, error) { return b.rd.WriteTo(w) }

// Close implements io.Closer; there is nothing to release.
func (b *bufferedBody) Close() error { return nil }

// Body returns the request body buffered by [Verifier.Verify] (the same bytes
// as [Identity.Body]), regardless of how much of r.Body has been read since.
// It returns nil if r's body was not buffered by Verify (or was empty).
// It stays valid for requests derived with r.WithContext or r.Clone, which
// share the body. The caller must not modify the returned slice.
func Body(r *http.Request) []byte {
	if b, ok := r.Body.(*bufferedBody); ok {
		return b.data
	}
	return nil
}

// readBody reads at most limit bytes of r.Body and replaces r.Body with a
// bufferedBody over them (or http.NoBody when the body is empty).
func readBody(r *http.Request, limit int64) ([]byte, *Error) {
	var data []byte
	switch {
	case r.Body == nil || r.Body == http.NoBody:
	case r.ContentLength > limit:
		return nil, errTooLarge(limit, nil)
	case r.ContentLength > 0:
		data = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, data); err != nil {
			return nil, readError(err, limit)
		}
	default: // unknown length (chunked)
		var err error
		data, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, readError(err, limit)
		}
		if int64(len(data)) > limit {
			return nil, errTooLarge(limit, nil)
		}
	}
	if len(data) == 0 {
		// Nothing to keep: handlers read an empty body either way.
		r.Body = http.NoBody
		return nil, nil
	}
	b := &bufferedBody{data: data}
	b.rd.Reset(data)
	r.Body = b
	return data, nil
}

func readError(err error, limit int64) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errTooLarge(limit, err)
	}
	return errValidation(http.StatusBadRequest, "The request body could not be read.", err)
}

func errTooLarge(limit int64, cause error) *Error {
	return errValidation(http.StatusRequestEntityTooLarge,
		"The request body exceeds the maximum size of "+strconv.FormatInt(limit, 10)+" bytes.", cause)
}
