package auth_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stagecast/stagecast/internal/auth"
)

func TestNewStreamKeyValue(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^sk_us-west-2_[A-Za-z0-9]{12}_[A-Za-z0-9]{30}$`)
	seen := make(map[string]bool, 1000)
	for range 1000 {
		v := auth.NewStreamKeyValue("us-west-2").Reveal()
		if !re.MatchString(v) {
			t.Fatalf("stream key %q does not match %s", v, re)
		}
		if seen[v] {
			t.Fatalf("duplicate stream key %q", v)
		}
		seen[v] = true
	}
}

func TestNewIngestStreamKeyValue(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^rt_[0-9]+_[a-z0-9-]+_[a-zA-Z0-9-]+_.+$`)
	tests := []struct{ account, region, resource string }{
		{"123456789012", "us-west-2", "AbCdEf123456"},
		{"000000000000", "eu-central-1", "ingest-cfg-1"},
	}
	for _, tt := range tests {
		v := auth.NewIngestStreamKeyValue(tt.account, tt.region, tt.resource).Reveal()
		if !re.MatchString(v) {
			t.Fatalf("ingest key %q does not match %s", v, re)
		}
		prefix := "rt_" + tt.account + "_" + tt.region + "_" + tt.resource + "_"
		suffix, ok := strings.CutPrefix(v, prefix)
		if !ok || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(suffix) {
			t.Fatalf("ingest key %q: want %s + 32 base62 characters", v, prefix)
		}
		if v2 := auth.NewIngestStreamKeyValue(tt.account, tt.region, tt.resource).Reveal(); v2 == v {
			t.Fatal("two ingest keys are equal")
		}
	}
}
