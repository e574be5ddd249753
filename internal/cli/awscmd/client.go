package awscmd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// sdkService describes one service's SDK client: the only per-service
// code. Every operation is reached by reflection on the client.
type sdkService struct {
	module    string       // Go module of the client, for messages
	client    reflect.Type // the *Client type
	newClient func(cfg aws.Config, endpoint string) any
}

var sdkServices = map[string]sdkService{
	awsmodel.IVS: {
		module: "github.com/aws/aws-sdk-go-v2/service/ivs",
		client: reflect.TypeOf((*ivs.Client)(nil)),
		newClient: func(cfg aws.Config, endpoint string) any {
			return ivs.NewFromConfig(cfg, func(o *ivs.Options) { o.BaseEndpoint = aws.String(endpoint) })
		},
	},
	awsmodel.Realtime: {
		module: "github.com/aws/aws-sdk-go-v2/service/ivsrealtime",
		client: reflect.TypeOf((*ivsrealtime.Client)(nil)),
		newClient: func(cfg aws.Config, endpoint string) any {
			return ivsrealtime.NewFromConfig(cfg, func(o *ivsrealtime.Options) { o.BaseEndpoint = aws.String(endpoint) })
		},
	},
}

// version names the SDK module with the version linked into the binary.
func (s sdkService) version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == s.module {
				return s.module + " " + d.Version
			}
		}
	}
	return s.module
}

// hasOperation reports whether the SDK client has a method for op.
func (s sdkService) hasOperation(op string) bool {
	_, ok := s.client.MethodByName(op)
	return ok
}

// checkSupport refuses input the SDK client cannot send: an operation
// without a method, or members (at any depth) without a Go field, which
// encoding/json would otherwise drop silently. The embedded model can be
// newer than the SDK release in go.mod.
func (s sdkService) checkSupport(m *awsmodel.Model, spec *opSpec, input map[string]any) error {
	meth, ok := s.client.MethodByName(spec.name)
	if !ok {
		return usageError{fmt.Sprintf("%s is in the %s model but not in the bundled SDK (%s), so it cannot be sent", spec.kebab, m.Name, s.version())}
	}
	if spec.input == nil {
		return nil
	}
	if path := missingField(m, spec.op.Input.Shape, meth.Type.In(2), input, ""); path != "" {
		return usageError{fmt.Sprintf("parameter %s is in the %s model but not in the bundled SDK (%s), so it cannot be sent", path, m.Name, s.version())}
	}
	return nil
}

// missingField returns the path of the first member of v that has no field
// in the Go type typ, or "".
func missingField(m *awsmodel.Model, shape string, typ reflect.Type, v any, path string) string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	s := m.Shapes[shape]
	switch x := v.(type) {
	case map[string]any:
		if s.Type == "map" {
			for k, e := range x {
				if p := missingField(m, s.Value.Shape, typ.Elem(), e, path+"."+k); p != "" {
					return p
				}
			}
			return ""
		}
		if typ.Kind() != reflect.Struct {
			return path
		}
		for _, k := range sortedKeys(x) {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			idx := fieldFor(typ, k)
			if idx < 0 {
				return sub
			}
			if p := missingField(m, s.Members[k].Shape, typ.Field(idx).Type, x[k], sub); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := missingField(m, s.Member.Shape, typ.Elem(), e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// caller invokes model operations on an SDK client by reflection.
type caller struct {
	m      *awsmodel.Model
	client reflect.Value
}

// call sends one request: the wire JSON input is decoded into the SDK's
// input struct (encoding/json matches wire names to the PascalCase fields
// case-insensitively) and the output is converted back to wire JSON.
func (c *caller) call(ctx context.Context, spec *opSpec, input map[string]any) (map[string]any, error) {
	method := c.client.MethodByName(spec.name)
	if !method.IsValid() {
		return nil, fmt.Errorf("operation %s has no SDK method", spec.name)
	}
	in := reflect.New(method.Type().In(1).Elem())
	data, err := json.Marshal(input)
	if err != nil {
		return nil, usageError{fmt.Sprintf("encode input: %v", err)}
	}
	if err := json.Unmarshal(data, in.Interface()); err != nil {
		return nil, usageError{fmt.Sprintf("invalid input: %v", err)}
	}
	res := method.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if errv := res[1]; !errv.IsNil() {
		return nil, errv.Interface().(error)
	}
	return outputToWire(c.m, spec.op, res[0]), nil
}

// newAWSConfig builds the SDK configuration of one invocation. The returned
// function releases idle connections.
func newAWSConfig(s settings, g globalOpts, env Env) (aws.Config, func(), error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: g.connectTimeout, KeepAlive: 30 * time.Second}
	tr.DialContext = dialer.DialContext
	tr.ResponseHeaderTimeout = g.readTimeout
	if g.noVerifySSL {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --no-verify-ssl
	}
	var hc aws.HTTPClient = &http.Client{Transport: tr}
	if g.debug {
		hc = &debugClient{next: hc, w: env.Stderr}
	}
	cfg := aws.Config{
		Region:      s.region,
		Credentials: aws.NewCredentialsCache(s.creds),
		HTTPClient:  hc,
	}
	if v := env.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return aws.Config{}, nil, configError{fmt.Sprintf("AWS_MAX_ATTEMPTS must be a positive integer, got %q", v)}
		}
		cfg.RetryMaxAttempts = n
	}
	return cfg, tr.CloseIdleConnections, nil
}

// debugClient logs each HTTP exchange (method, URL, status, request id,
// duration) for --debug. Bodies and headers are never logged: requests
// carry signatures and responses carry stream keys and tokens.
type debugClient struct {
	next aws.HTTPClient
	w    io.Writer
}

func (d *debugClient) Do(req *http.Request) (*http.Response, error) {
	start := time.Now()
	fmt.Fprintf(d.w, "debug: request %s %s\n", req.Method, req.URL.Redacted())
	resp, err := d.next.Do(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(d.w, "debug: request failed after %s: %v\n", elapsed, err)
		return resp, err
	}
	fmt.Fprintf(d.w, "debug: response %s (request id %q) after %s\n", resp.Status, resp.Header.Get("X-Amzn-Requestid"), elapsed)
	return resp, err
}

// apiMessage returns the error text the AWS CLI would print. The Go SDK's
// typed IVS errors leave Message empty and put the body's exceptionMessage
// into an ExceptionMessage field, so that field is the fallback.
func apiMessage(err smithy.APIError) string {
	if msg := err.ErrorMessage(); msg != "" {
		return msg
	}
	v := reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	if f := v.FieldByName("ExceptionMessage"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
		return f.Elem().String()
	}
	return ""
}

// classifyCallError prints err like the AWS CLI and returns the exit code.
func classifyCallError(w io.Writer, prefix, opName, endpoint string, err error) int {
	var (
		params  smithy.InvalidParamsError
		apiErr  smithy.APIError
		respErr *smithyhttp.ResponseError
		sendErr *smithyhttp.RequestSendError
		usage   usageError
	)
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(w, "%s: error: %s\n", prefix, usage.msg)
		return exitUsage
	case errors.As(err, &params):
		fmt.Fprintf(w, "%s: error: parameter validation failed: %v\n", prefix, params)
		return exitUsage
	case errors.As(err, &sendErr):
		target := endpoint + "/" + opName
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			target = urlErr.URL
		}
		var opErr *net.OpError
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(w, "%s: error: interrupted\n", prefix)
		case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
			fmt.Fprintf(w, "Connect timeout on endpoint URL: %q\n", target)
		case urlErr != nil && urlErr.Timeout():
			fmt.Fprintf(w, "Read timeout on endpoint URL: %q\n", target)
		default:
			fmt.Fprintf(w, "Could not connect to the endpoint URL: %q\n", target)
		}
		return exitConnect
	case errors.As(err, &apiErr):
		fmt.Fprintf(w, "An error occurred (%s) when calling the %s operation: %s\n", apiErr.ErrorCode(), opName, apiMessage(apiErr))
		return exitService
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() != 0:
		code := respErr.HTTPStatusCode()
		fmt.Fprintf(w, "An error occurred (%d) when calling the %s operation: %s\n", code, opName, http.StatusText(code))
		return exitService
	}
	fmt.Fprintf(w, "%s: error: %v\n", prefix, err)
	return exitConnect
}
