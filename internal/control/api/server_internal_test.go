package api

import (
	"regexp"
	"testing"
)

func TestNewRequestIDIsAUniqueUUIDShape(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 10000 {
		id := newRequestID()
		if !shape.MatchString(id) {
			t.Fatalf("request id %q is not UUID-shaped", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}
