package awscmd

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

var services = []string{awsmodel.IVS, awsmodel.Realtime}

// knownSDKGaps lists what the embedded models have and the SDK releases in
// go.mod (service/ivs v1.51.1, service/ivsrealtime v1.30.0) lack. Commands
// refuse such input with a clear error instead of dropping it; output
// members in this list are not printed. Bumping the SDK modules should
// empty the list, and the test fails until the list matches again.
var knownSDKGaps = map[string][]string{
	awsmodel.IVS: {
		"CreateAdConfiguration input.postRollConfiguration",
		"CreateAdConfiguration output.adConfiguration.postRollConfiguration",
		"GetAdConfiguration output.adConfiguration.postRollConfiguration",
		"ListAdConfigurations output.adConfigurations[].postRollConfiguration",
		"UpdateAdConfiguration (no SDK method)",
	},
	awsmodel.Realtime: {
		"CreateIngestConfiguration input.redundantIngest",
		"CreateIngestConfiguration output.ingestConfiguration.redundantIngest",
		"CreateIngestConfiguration output.ingestConfiguration.redundantIngestCredentials",
		"GetIngestConfiguration output.ingestConfiguration.redundantIngest",
		"GetIngestConfiguration output.ingestConfiguration.redundantIngestCredentials",
		"GetParticipant output.participant.ingestConfigurationArn",
		"GetParticipant output.participant.redundantIngest",
		"ListIngestConfigurations output.ingestConfigurations[].redundantIngest",
		"ListParticipantEvents output.events[].newToken",
		"ListParticipantEvents output.events[].previousToken",
		"ListParticipants output.participants[].ingestConfigurationArn",
		"ListParticipants output.participants[].redundantIngest",
		"UpdateIngestConfiguration input.redundantIngest",
		"UpdateIngestConfiguration output.ingestConfiguration.redundantIngest",
		"UpdateIngestConfiguration output.ingestConfiguration.redundantIngestCredentials",
	},
}

// TestEveryOperationIsRoutable checks that each model operation has an SDK
// method of the expected shape and that every input and output member,
// at any depth, has a Go field the JSON decoding and the output walk find,
// apart from the known gaps.
func TestEveryOperationIsRoutable(t *testing.T) {
	t.Parallel()
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	errType := reflect.TypeOf((*error)(nil)).Elem()
	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			m := awsmodel.MustLoad(svc)
			client := reflect.TypeOf(sdkServices[svc].newClient(aws.Config{}, "http://127.0.0.1:1"))
			require.Equal(t, sdkServices[svc].client, client)
			require.NotEmpty(t, m.Operations)
			var gaps []string
			for _, name := range m.OperationNames() {
				meth, ok := client.MethodByName(name)
				if !ok {
					gaps = append(gaps, name+" (no SDK method)")
					continue
				}
				mt := meth.Type // receiver, ctx, *Input, ...optFns
				require.Equal(t, 4, mt.NumIn(), name)
				assert.True(t, mt.IsVariadic(), name)
				assert.Equal(t, ctxType, mt.In(1), name)
				assert.Equal(t, reflect.Pointer, mt.In(2).Kind(), name)
				require.Equal(t, 2, mt.NumOut(), name)
				assert.Equal(t, errType, mt.Out(1), name)
				op := m.Operations[name]
				if op.Input != nil {
					checkShape(t, m, op.Input.Shape, mt.In(2), name+" input", map[string]bool{}, &gaps)
				}
				if op.Output != nil {
					checkShape(t, m, op.Output.Shape, mt.Out(0), name+" output", map[string]bool{}, &gaps)
				}
			}
			assert.ElementsMatch(t, knownSDKGaps[svc], gaps, "model members without SDK fields")
		})
	}
}

func checkShape(t *testing.T, m *awsmodel.Model, shape string, typ reflect.Type, path string, seen map[string]bool, gaps *[]string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	key := shape + "/" + typ.String()
	if seen[key] {
		return
	}
	seen[key] = true
	s := m.Shapes[shape]
	want := map[string]reflect.Kind{
		"structure": reflect.Struct, "list": reflect.Slice, "map": reflect.Map, "string": reflect.String,
		"integer": reflect.Int32, "long": reflect.Int64, "float": reflect.Float32, "double": reflect.Float64,
		"boolean": reflect.Bool, "timestamp": reflect.Struct,
	}[s.Type]
	if !assert.Equal(t, want, typ.Kind(), "%s (%s)", path, s.Type) {
		return
	}
	switch s.Type {
	case "timestamp":
		assert.Equal(t, reflect.TypeOf(time.Time{}), typ, path)
	case "structure":
		for _, name := range s.MemberNames() {
			idx := fieldFor(typ, name)
			if idx < 0 {
				*gaps = append(*gaps, path+"."+name)
				continue
			}
			checkShape(t, m, s.Members[name].Shape, typ.Field(idx).Type, path+"."+name, seen, gaps)
		}
	case "list":
		checkShape(t, m, s.Member.Shape, typ.Elem(), path+"[]", seen, gaps)
	case "map":
		assert.Equal(t, reflect.String, typ.Key().Kind(), path)
		checkShape(t, m, s.Value.Shape, typ.Elem(), path+"{}", seen, gaps)
	}
}

func TestSDKGapsAreRefusedNotDropped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		service string
		args    []string
		want    string
	}{
		{"operation without SDK method", "ivs", []string{"update-ad-configuration", "--arn", "a"},
			"update-ad-configuration is in the ivs model but not in the bundled SDK (github.com/aws/aws-sdk-go-v2/service/ivs"},
		{"member without SDK field", "ivs-realtime", []string{"create-ingest-configuration", "--ingest-protocol", "RTMPS", "--redundant-ingest"},
			"parameter redundantIngest is in the ivs-realtime model but not in the bundled SDK"},
		{"structure member without SDK field", "ivs", []string{"create-ad-configuration",
			"--media-tailor-playback-configurations", "playbackConfigurationArn=p", "--post-roll-configuration", "durationSeconds=30,enabled=true"},
			"parameter postRollConfiguration is in the ivs model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, nil)
			res := runAt(t, srv.URL, tt.service, tt.args...)
			assert.Equal(t, exitUsage, res.code)
			assert.Contains(t, res.stderr, tt.want)
			assert.Empty(t, srv.requests())
		})
	}
}

func TestFlagNamesAreUnambiguous(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		m := awsmodel.MustLoad(svc)
		for _, name := range m.OperationNames() {
			spec := newOpSpec(m, name)
			seen := map[string]bool{}
			for _, f := range append(spec.specialFlags(), globalFlagNames()...) {
				seen[f] = true
			}
			for _, f := range spec.flags {
				assert.False(t, seen[f.flag], "%s %s: --%s collides", svc, name, f.flag)
				seen[f.flag] = true
				if f.kind == kindBool {
					assert.False(t, seen["no-"+f.flag], "%s %s: --no-%s collides", svc, name, f.flag)
					seen["no-"+f.flag] = true
				}
			}
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
			t.Run(svc+" "+args[0]+" lists every operation", func(t *testing.T) {
				t.Parallel()
				m := awsmodel.MustLoad(svc)
				res := runCmd(t, testEnv(t, nil), svc, args...)
				require.Equal(t, 0, res.code, res.stderr)
				_, block, ok := strings.Cut(res.stdout, "Commands:\n")
				require.True(t, ok)
				block, _, _ = strings.Cut(block, "\n\n")
				cmds := lines(block)
				assert.Len(t, cmds, len(m.Operations))
				for i, name := range m.OperationNames() {
					assert.Equal(t, awsmodel.Kebab(name), strings.Fields(cmds[i])[0])
				}
			})
		}
	}
	tests := []struct {
		name    string
		service string
		args    []string
		want    []string
	}{
		{"command help word", "ivs", []string{"create-channel", "help"}, []string{
			"usage: stagecast ivs create-channel",
			"Creates a new channel and an associated stream key to start streaming.",
			"--name <value>  (string, optional)",
			"--authorized | --no-authorized  (boolean, optional)",
			"--tags <value>  (map: shorthand k=v,... or JSON, optional)",
			"--cli-input-json", "--endpoint-url",
		}},
		{"--help flag", "ivs-realtime", []string{"create-participant-token", "--help"}, []string{
			"--stage-arn <value>  (string, required)",
			"--capabilities <value> [<value> ...]  (list of string, one of PUBLISH|SUBSCRIBE, optional)",
			"--duration <value>  (integer, optional)",
		}},
		{"help before the command", "ivs-realtime", []string{"help", "start-composition"}, []string{
			"--destinations <value> [<value> ...]  (list of structures: JSON array or shorthand items, required)",
			"--layout <value>  (structure: shorthand k=v,... or JSON, optional)",
		}},
		{"paginated command", "ivs", []string{"list-channels", "help"}, []string{"Pagination", "--max-items", "--page-size <n>          items per call (maxResults)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCmd(t, testEnv(t, nil), tt.service, tt.args...)
			require.Equal(t, 0, res.code, res.stderr)
			for _, w := range tt.want {
				assert.Contains(t, res.stdout, w)
			}
			assert.NotContains(t, res.stdout, "<p>")
		})
	}
}

func TestFirstSentence(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"<p>Creates a new channel. And more.</p>", "Creates a new channel."},
		{"<p>Gets the <a>Channel</a> for ARN <code>x</code> &amp; y</p>", "Gets the Channel for ARN x & y"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, firstSentence(tt.in))
	}
}
