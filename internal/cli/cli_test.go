package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/cli"
	"github.com/stagecast/stagecast/internal/testutil"
)

// run executes one stagecast command line against the live server's data
// dir (the CLI finds endpoint and credentials in the profile serve wrote).
func run(t *testing.T, dataDir string, args ...string) (map[string]any, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--data-dir", dataDir)
	code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	var v map[string]any
	if out.Len() > 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &v), "output of %v is not JSON: %s", args, out.String())
	}
	return v, errb.String(), code
}

func get(v map[string]any, path ...string) string {
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// TestCLISequence runs the seed's CLI walkthrough against a live server,
// each step using the previous step's output.
func TestCLISequence(t *testing.T) {
	t.Parallel()
	s := testutil.Start(t, "")
	dir := s.DataDir
	must := func(args ...string) map[string]any {
		t.Helper()
		v, stderr, code := run(t, dir, args...)
		require.Equal(t, 0, code, "%v failed: %s", args, stderr)
		return v
	}

	ch := must("ivs", "create-channel", "--name", "my-first-low-latency-channel")
	channelArn := get(ch, "channel", "arn")
	require.Regexp(t, `^arn:aws:ivs:us-east-1:\d{12}:channel/\w{12}$`, channelArn)
	require.Equal(t, "LOW", get(ch, "channel", "latencyMode"))
	require.True(t, strings.HasPrefix(get(ch, "streamKey", "value"), "sk_us-east-1_"))

	st := must("ivs-realtime", "create-stage", "--name", "my-first-stage")
	stageArn := get(st, "stage", "arn")
	require.Contains(t, stageArn, ":stage/")

	tok := must("ivs-realtime", "create-participant-token", "--stage-arn", stageArn, "--attributes", "username=todd,isFeatured=false")
	require.Equal(t, "todd", get(tok, "participantToken", "attributes", "username"))
	require.Equal(t, "false", get(tok, "participantToken", "attributes", "isFeatured"))
	require.Equal(t, 3, strings.Count(get(tok, "participantToken", "token"), ".")+1, "a JWT")
	claims, err := s.Stages.VerifyToken(context.Background(), get(tok, "participantToken", "token"))
	require.NoError(t, err)
	require.Equal(t, "todd", claims.Attributes["username"])

	enc := must("ivs-realtime", "create-encoder-configuration", "--name", "my-first-encoder-configuration", "--video", "bitrate=2500000,height=720,width=1280,framerate=30")
	encArn := get(enc, "encoderConfiguration", "arn")
	video := enc["encoderConfiguration"].(map[string]any)["video"].(map[string]any)
	require.EqualValues(t, 1280, video["width"])
	require.EqualValues(t, 30, video["framerate"])

	dest := `[{"channel": {"channelArn": "` + channelArn + `", "encoderConfigurationArn": "` + encArn + `"}}]`
	comp := must("ivs-realtime", "start-composition", "--stage-arn", stageArn, "--destinations", dest)
	compArn := get(comp, "composition", "arn")
	require.Contains(t, compArn, ":composition/")
	require.Equal(t, stageArn, get(comp, "composition", "stageArn"))

	must("ivs-realtime", "stop-composition", "--arn", compArn)
	must("ivs-realtime", "delete-stage", "--arn", stageArn)
	must("ivs-realtime", "delete-encoder-configuration", "--arn", encArn)
	must("ivs", "delete-channel", "--arn", channelArn)

	// Gone: a clear one-line AWS error and a non-zero exit.
	_, stderr, code := run(t, dir, "ivs", "get-channel", "--arn", channelArn)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "An error occurred (ResourceNotFoundException) when calling the GetChannel operation")
	require.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
}

func TestKeysCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.Equal(t, 0, cli.Main(context.Background(), []string{"keys", "create", "--description", "ci", "--data-dir", dir}, nil, &out, &errb), errb.String())
	var created struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &created))
	require.Regexp(t, `^AKIA[A-Z0-9]{16}$`, created.AccessKey.AccessKeyId)
	require.Len(t, created.AccessKey.SecretAccessKey, 40)

	out.Reset()
	require.Equal(t, 0, cli.Main(context.Background(), []string{"keys", "list", "--data-dir", dir}, nil, &out, &errb))
	require.Contains(t, out.String(), created.AccessKey.AccessKeyId)
	require.NotContains(t, out.String(), created.AccessKey.SecretAccessKey, "list never shows secrets")

	out.Reset()
	require.Equal(t, 0, cli.Main(context.Background(), []string{"keys", "delete", created.AccessKey.AccessKeyId, "--data-dir", dir}, nil, &out, &errb))
	require.Equal(t, 1, cli.Main(context.Background(), []string{"keys", "delete", created.AccessKey.AccessKeyId, "--data-dir", dir}, nil, &out, &errb))
}
