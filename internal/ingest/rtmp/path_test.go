package rtmp

import (
	"errors"
	"strings"
	"testing"
)

var pathCases = []struct {
	name, path, key string
	err             error
}{
	{"ivs url", "/app/" + testKey, testKey, nil},
	{"trailing slash", "/app/" + testKey + "/", testKey, nil},
	{"no leading slash", "app/abc", "abc", nil},
	{"realtime key", "/app/rt_123456789012_us-east-1_abcDEF_0123456789", "rt_123456789012_us-east-1_abcDEF_0123456789", nil},
	{"other app", "/live/" + testKey, "", errBadApp},
	{"app case", "/App/" + testKey, "", errBadApp},
	{"no key", "/app", "", errNoKey},
	{"empty key", "/app/", "", errNoKey},
	{"nested", "/app/a/b", "", errBadKey},
	{"space", "/app/a b", "", errBadKey},
	{"unicode", "/app/clé", "", errBadKey},
	{"long key", "/app/" + strings.Repeat("k", MaxStreamKeyLen+1), "", errBadKey},
	{"max key", "/app/" + strings.Repeat("k", MaxStreamKeyLen), strings.Repeat("k", MaxStreamKeyLen), nil},
	{"long path", "/app/" + strings.Repeat("k", maxPathLen), "", errPathLimit},
}

func TestStreamKeyFromPath(t *testing.T) {
	t.Parallel()
	for _, tc := range pathCases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := StreamKeyFromPath(tc.path)
			if !errors.Is(err, tc.err) || key != tc.key {
				t.Fatalf("got (%q, %v), want (%q, %v)", key, err, tc.key, tc.err)
			}
		})
	}
}

func FuzzStreamKeyFromPath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		key, err := StreamKeyFromPath(path)
		if err != nil {
			if key != "" {
				t.Fatal("key returned with an error")
			}
			if key != "" && strings.Contains(err.Error(), key) {
				t.Fatal("error contains the key")
			}
			return
		}
		if key == "" || len(key) > MaxStreamKeyLen || strings.ContainsAny(key, "/?# \x00") {
			t.Fatalf("accepted key %q", key)
		}
		if !strings.Contains(path, "app/"+key) {
			t.Fatalf("key %q not in path %q", key, path)
		}
	})
}
