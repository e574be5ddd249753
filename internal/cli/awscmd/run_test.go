package awscmd

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestsCarryTypedWireInput(t *testing.T) {
	t.Parallel()
	paramFile := filepath.Join(t.TempDir(), "name.txt")
	require.NoError(t, os.WriteFile(paramFile, []byte("from-file"), 0o600))
	inputFile := filepath.Join(t.TempDir(), "input.json")
	require.NoError(t, os.WriteFile(inputFile, []byte(`{"arn":"arn:aws:ivs:us-east-1:123456789012:channel/abc"}`), 0o600))

	tests := []struct {
		name      string
		service   string
		args      []string
		wantPath  string
		wantQuery string
		wantBody  string // JSON; "" means no body
	}{{
		// The Go SDK leaves out defaulted booleans that are false, so
		// --no-authorized sends nothing at all.
		name:     "create-channel with --no-authorized and shorthand tags",
		service:  "ivs",
		args:     []string{"create-channel", "--name", "x", "--type", "BASIC", "--no-authorized", "--tags", "a=b"},
		wantPath: "/CreateChannel",
		wantBody: `{"name":"x","type":"BASIC","tags":{"a":"b"}}`,
	}, {
		name:     "boolean flags set true",
		service:  "ivs",
		args:     []string{"create-channel", "--authorized", "--insecure-ingest=true", "--latency-mode", "LOW"},
		wantPath: "/CreateChannel",
		wantBody: `{"authorized":true,"insecureIngest":true,"latencyMode":"LOW"}`,
	}, {
		name:    "participant token with map shorthand, scalar list and integer",
		service: "ivs-realtime",
		args: []string{"create-participant-token", "--stage-arn", "A", "--attributes", "username=todd,isFeatured=false",
			"--capabilities", "PUBLISH", "SUBSCRIBE", "--duration", "60"},
		wantPath: "/CreateParticipantToken",
		wantBody: `{"stageArn":"A","attributes":{"username":"todd","isFeatured":"false"},"capabilities":["PUBLISH","SUBSCRIBE"],"duration":60}`,
	}, {
		name:     "structure shorthand typed by member shapes",
		service:  "ivs-realtime",
		args:     []string{"create-encoder-configuration", "--name", "enc", "--video", "bitrate=2500000,height=720,width=1280,framerate=30"},
		wantPath: "/CreateEncoderConfiguration",
		wantBody: `{"name":"enc","video":{"bitrate":2500000,"height":720,"width":1280,"framerate":30}}`,
	}, {
		name:     "structure as JSON with a fractional float",
		service:  "ivs-realtime",
		args:     []string{"create-encoder-configuration", "--video", `{"framerate": 29.97, "width": 640}`},
		wantPath: "/CreateEncoderConfiguration",
		wantBody: `{"video":{"framerate":29.97,"width":640}}`,
	}, {
		name:     "nested shorthand",
		service:  "ivs-realtime",
		args:     []string{"start-composition", "--stage-arn", "S", "--idempotency-token", "tok", "--layout", "grid={featuredParticipantAttribute=f,gridGap=4}", "--destinations", "channel={channelArn=C}"},
		wantPath: "/StartComposition",
		wantBody: `{"stageArn":"S","idempotencyToken":"tok","layout":{"grid":{"featuredParticipantAttribute":"f","gridGap":4}},"destinations":[{"channel":{"channelArn":"C"}}]}`,
	}, {
		name:    "list of structures as JSON",
		service: "ivs-realtime",
		args: []string{"start-composition", "--stage-arn", "S", "--idempotency-token", "tok", "--destinations",
			`[{"channel": { "channelArn": "C", "encoderConfigurationArn": "E"}}]`},
		wantPath: "/StartComposition",
		wantBody: `{"stageArn":"S","idempotencyToken":"tok","destinations":[{"channel":{"channelArn":"C","encoderConfigurationArn":"E"}}]}`,
	}, {
		name:     "list of structures as repeated shorthand items",
		service:  "ivs",
		args:     []string{"batch-start-viewer-session-revocation", "--viewer-sessions", "channelArn=a,viewerId=v1", "channelArn=b,viewerId=v2,viewerSessionVersionsLessThanOrEqualTo=3"},
		wantPath: "/BatchStartViewerSessionRevocation",
		wantBody: `{"viewerSessions":[{"channelArn":"a","viewerId":"v1"},{"channelArn":"b","viewerId":"v2","viewerSessionVersionsLessThanOrEqualTo":3}]}`,
	}, {
		name:     "scalar list as JSON array",
		service:  "ivs",
		args:     []string{"batch-get-channel", "--arns", `["a","b"]`},
		wantPath: "/BatchGetChannel",
		wantBody: `{"arns":["a","b"]}`,
	}, {
		name:     "cli-input-json with a flag overriding it",
		service:  "ivs",
		args:     []string{"create-channel", "--cli-input-json", `{"name":"a","latencyMode":"LOW","tags":{"k":"v"}}`, "--name", "b"},
		wantPath: "/CreateChannel",
		wantBody: `{"name":"b","latencyMode":"LOW","tags":{"k":"v"}}`,
	}, {
		name:     "cli-input-json from a file satisfies required members",
		service:  "ivs",
		args:     []string{"get-channel", "--cli-input-json", "file://" + inputFile},
		wantPath: "/GetChannel",
		wantBody: `{"arn":"arn:aws:ivs:us-east-1:123456789012:channel/abc"}`,
	}, {
		name:     "file:// parameter value and --flag=value",
		service:  "ivs",
		args:     []string{"create-channel", "--name=file://" + paramFile},
		wantPath: "/CreateChannel",
		wantBody: `{"name":"from-file"}`,
	}, {
		name:     "global options between operation flags",
		service:  "ivs",
		args:     []string{"--region", "eu-west-1", "create-channel", "--debug", "--name", "x", "--output", "json"},
		wantPath: "/CreateChannel",
		wantBody: `{"name":"x"}`,
	}, {
		name:     "tag-resource puts the ARN in the path",
		service:  "ivs",
		args:     []string{"tag-resource", "--resource-arn", "arn:aws:ivs:us-east-1:123456789012:channel/abc", "--tags", "a=b,c=d"},
		wantPath: "/tags/arn:aws:ivs:us-east-1:123456789012:channel/abc",
		wantBody: `{"tags":{"a":"b","c":"d"}}`,
	}, {
		name:      "untag-resource sends the keys as a repeated query parameter",
		service:   "ivs-realtime",
		args:      []string{"untag-resource", "--resource-arn", "arn:aws:ivs:us-east-1:123456789012:stage/abc", "--tag-keys", "a", "b"},
		wantPath:  "/tags/arn:aws:ivs:us-east-1:123456789012:stage/abc",
		wantQuery: "tagKeys=a&tagKeys=b",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, nil)
			res := runAt(t, srv.URL, tt.service, tt.args...)
			require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantPath, reqs[0].Path)
			assert.Equal(t, tt.wantQuery, reqs[0].Query)
			if tt.wantBody == "" {
				assert.Empty(t, reqs[0].Body)
				return
			}
			assert.Equal(t, jsonOf(t, tt.wantBody), any(reqs[0].Body))
		})
	}
}

func TestStartCompositionFillsIdempotencyToken(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, nil)
	res := runAt(t, srv.URL, "ivs-realtime", "start-composition", "--stage-arn", "S",
		"--destinations", `[{"channel":{"channelArn":"C"}}]`)
	require.Equal(t, 0, res.code, res.stderr)
	body := srv.requests()[0].Body
	assert.NotEmpty(t, body["idempotencyToken"], "the SDK fills the idempotency token")
	assert.Equal(t, "POST", srv.requests()[0].Method)
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		service string
		args    []string
		want    []string // substrings of stderr
	}{
		{"unknown command suggests the closest", "ivs", []string{"create-chanel"}, []string{`unknown command "create-chanel"`, `did you mean "create-channel"?`}},
		{"realtime command under ivs", "ivs", []string{"create-stage"}, []string{`unknown command "create-stage"; it is an ivs-realtime command: run ` + "`stagecast ivs-realtime create-stage`"}},
		{"unknown flag suggests the closest", "ivs", []string{"create-channel", "--nmae", "x"}, []string{"unknown option --nmae", `"--name"`}},
		{"misspelt global option", "ivs", []string{"create-channel", "--regoin", "x"}, []string{`"--region"`}},
		{"missing required flag names it", "ivs-realtime", []string{"create-participant-token", "--duration", "5"}, []string{"required: --stage-arn"}},
		{"no command", "ivs", nil, []string{"a command is required"}},
		{"bad JSON", "ivs-realtime", []string{"start-composition", "--stage-arn", "S", "--destinations", `[{"channel":`}, []string{"--destinations", "invalid JSON"}},
		{"not a number", "ivs-realtime", []string{"create-participant-token", "--stage-arn", "S", "--duration", "soon"}, []string{"--duration", "expected an integer"}},
		{"integer out of range", "ivs-realtime", []string{"create-encoder-configuration", "--video", "width=99999999999"}, []string{"out of range"}},
		{"unknown shorthand key", "ivs-realtime", []string{"create-encoder-configuration", "--video", "bitrat=1"}, []string{`unknown parameter "bitrat"`, "bitrate"}},
		{"nested required member", "ivs-realtime", []string{"start-composition", "--stage-arn", "S", "--destinations", `[{"channel":{}}]`}, []string{`missing required parameter in destinations[0].channel: "channelArn"`}},
		{"bad shorthand", "ivs", []string{"create-channel", "--tags", "a"}, []string{"--tags", "expected '='"}},
		{"scalar flag without value", "ivs", []string{"get-channel", "--arn"}, []string{"--arn: expected one argument"}},
		{"stray word", "ivs", []string{"get-channel", "--arn", "a", "b"}, []string{`unexpected argument "b"`}},
		{"unsupported output", "ivs", []string{"list-channels", "--output", "table"}, []string{"only json"}},
		{"query unsupported", "ivs", []string{"list-channels", "--query", "channels"}, []string{"--query is not supported"}},
		{"pagination flags only on paginated commands", "ivs", []string{"get-channel", "--arn", "a", "--max-items", "3"}, []string{"unknown option --max-items"}},
		{"bad max-items", "ivs", []string{"list-channels", "--max-items", "0"}, []string{"positive integer"}},
		{"bad endpoint flag", "ivs", []string{"list-channels", "--endpoint-url", "localhost:8080"}, []string{"invalid endpoint URL"}},
		{"unknown service", "medialive", []string{"list-channels"}, []string{`unknown service "medialive"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, nil)
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "--endpoint-url") {
				args = append(args, "--endpoint-url", srv.URL)
			}
			res := runCmd(t, testEnv(t, nil), tt.service, args...)
			assert.Equal(t, exitUsage, res.code, "stderr: %s", res.stderr)
			for _, w := range tt.want {
				assert.Contains(t, res.stderr, w)
			}
			assert.Len(t, lines(res.stderr), 1+strings.Count(res.stderr, "usage:"), "one error line: %q", res.stderr)
			assert.Empty(t, res.stdout)
			assert.Empty(t, srv.requests(), "nothing is sent on a usage error")
		})
	}
}

func TestServiceErrorPrintsOneAWSLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rep    reply
		stderr string
	}{{
		name: "modeled error uses exceptionMessage",
		rep: reply{status: 404, headers: map[string]string{"X-Amzn-ErrorType": "ResourceNotFoundException"},
			body: `{"__type":"ResourceNotFoundException","exceptionMessage":"Resource x not found","message":"Resource x not found"}`},
		stderr: "An error occurred (ResourceNotFoundException) when calling the GetChannel operation: Resource x not found\n",
	}, {
		name:   "unmodeled error uses message",
		rep:    reply{status: 403, body: `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`},
		stderr: "An error occurred (UnrecognizedClientException) when calling the GetChannel operation: The security token included in the request is invalid.\n",
	}, {
		name:   "error without a code falls back to the status",
		rep:    reply{status: 502, body: `<html>bad gateway</html>`},
		stderr: "An error occurred (502) when calling the GetChannel operation: Bad Gateway\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, func(int, recorded) reply { return tt.rep })
			res := runAt(t, srv.URL, "ivs", "get-channel", "--arn", "x")
			assert.Equal(t, exitService, res.code)
			assert.Equal(t, tt.stderr, res.stderr)
			assert.Empty(t, res.stdout)
		})
	}
}

func TestConnectionErrorNamesTheURL(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	res := runAt(t, "http://"+addr, "ivs", "get-channel", "--arn", "x")
	assert.Equal(t, exitConnect, res.code)
	assert.Equal(t, `Could not connect to the endpoint URL: "http://`+addr+`/GetChannel"`+"\n", res.stderr)
}

func TestNoBodyOperationPrintsNothing(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, recorded) reply { return reply{status: 204} })
	res := runAt(t, srv.URL, "ivs", "delete-channel", "--arn", "a")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, res.stdout)
	assert.Empty(t, res.stderr)

	srv2 := newFakeServer(t, nil) // 200 {} also prints nothing, like the AWS CLI
	res = runAt(t, srv2.URL, "ivs-realtime", "delete-stage", "--arn", "a")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, res.stdout)
}

func TestGenerateSkeletonDoesNotCall(t *testing.T) {
	t.Parallel()
	res := runCmd(t, testEnv(t, map[string]string{"AWS_ACCESS_KEY_ID": ""}), "ivs-realtime", "create-encoder-configuration", "--generate-cli-skeleton")
	require.Equal(t, 0, res.code, res.stderr)
	sk := jsonOf(t, res.stdout).(map[string]any)
	assert.Equal(t, map[string]any{"bitrate": 0.0, "framerate": 0.0, "height": 0.0, "width": 0.0}, sk["video"])
	assert.Equal(t, "", sk["name"])

	res = runCmd(t, testEnv(t, nil), "ivs", "create-channel", "--generate-cli-skeleton", "output")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, `"streamKey": {`)
}

func TestDebugNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, staticReply(`{"channel":{"arn":"a"},"streamKey":{"value":"sk_secret_value"}}`))
	res := runAt(t, srv.URL, "ivs", "create-channel", "--debug")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "debug: request POST "+srv.URL+"/CreateChannel")
	assert.Contains(t, res.stderr, "debug: response 200 OK")
	assert.Contains(t, res.stderr, "credentials from environment")
	assert.NotContains(t, res.stderr, "super-secret-key")
	assert.NotContains(t, res.stderr, "sk_secret_value")
	assert.NotContains(t, res.stderr, "Signature=")
}
