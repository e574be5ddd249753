package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// Operation is one entry of a service's generated operation table.
type Operation[S any] struct {
	// Name is the model operation name ("CreateChannel").
	Name string
	// Method and Path are the HTTP binding ("POST", "/CreateChannel",
	// or "/tags/{resourceArn}").
	Method string
	Path   string
	// Status is the HTTP status of a successful response.
	Status int
	// Errors are the model's error shape names for this operation.
	Errors []string
	// Invoke decodes and validates the request, then calls the service.
	// The returned value is the output shape (nil = no members).
	Invoke func(ctx context.Context, svc S, req Request) (any, error)
}

// Request is what generated invokers read: the raw JSON body, the decoded
// URI labels and the query string.
type Request struct {
	Body   []byte
	Labels map[string]string
	Query  url.Values
}

// Decode unmarshals the JSON body into in. An empty body is an empty object.
func (r Request) Decode(in any) error {
	b := bytes.TrimSpace(r.Body)
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &ValidationError{Messages: []string{fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must be of type %s", te.Field, jsonKind(te.Type.Kind().String()))}}
		}
		return &ValidationError{Messages: []string{"Could not parse request body: " + err.Error()}}
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32":
		return "integer"
	case "float64", "float32":
		return "number"
	case "ptr":
		return "object"
	}
	return k
}

// Label returns the URI label name as a pointer ("" labels are absent).
func (r Request) Label(name string) *string {
	v, ok := r.Labels[name]
	if !ok {
		return nil
	}
	return &v
}

// QueryList returns every value of a repeated query key.
func (r Request) QueryList(name string) []string {
	return r.Query[name]
}

// ValidationError lists every constraint a request broke.
type ValidationError struct {
	Messages []string
}

func (e *ValidationError) Error() string {
	switch len(e.Messages) {
	case 0:
		return "validation error"
	case 1:
		return "1 validation error detected: " + e.Messages[0]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d validation errors detected: ", len(e.Messages))
	for i, m := range e.Messages {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m)
	}
	return b.String()
}

// Invalid builds a ValidationError for one field, for checks the model
// cannot express (mutually exclusive members, cross-field rules).
func Invalid(field, msg string) error {
	return &ValidationError{Messages: []string{fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", field, msg)}}
}
