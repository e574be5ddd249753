package main

import (
	"go/format"
	"os"
	"path/filepath"
	"testing"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// TestGeneratedCodeIsCurrent fails when the committed *_gen.go files differ
// from what the generator makes of the embedded models (run go generate).
func TestGeneratedCodeIsCurrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ service, pkg string }{{awsmodel.IVS, "ivsapi"}, {awsmodel.Realtime, "rtapi"}} {
		g := &gen{m: awsmodel.MustLoad(tc.service), pkg: tc.pkg, regexps: map[string]string{}, needs: map[string]bool{}}
		for name, f := range map[string]func() []byte{"shapes_gen.go": g.shapes, "validate_gen.go": g.validation, "ops_gen.go": g.operations,
			"encode_gen.go": g.encoders, "encode_gen_test.go": g.encoderTests} {
			want, err := format.Source(f())
			if err != nil {
				t.Fatalf("%s/%s: %v", tc.pkg, name, err)
			}
			got, err := os.ReadFile(filepath.Join("..", "..", "..", "model", tc.pkg, name))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s/%s is stale: run go generate ./...", tc.pkg, name)
			}
		}
	}
}

func TestKebabMatchesAWSCLI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"CreateParticipantToken": "create-participant-token", "channelArn": "channel-arn",
		"BatchGetStreamKey": "batch-get-stream-key", "StartViewerSessionRevocation": "start-viewer-session-revocation",
		"recordingConfigurationArn": "recording-configuration-arn", "ListTagsForResource": "list-tags-for-resource",
	} {
		if got := awsmodel.Kebab(in); got != want {
			t.Errorf("Kebab(%q) = %q, want %q", in, got, want)
		}
	}
}
