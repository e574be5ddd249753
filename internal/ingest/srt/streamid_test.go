package srt

import (
	"errors"
	"strings"
	"testing"
)

var streamIDCases = []struct {
	name, id, key string
	err           error
}{
	{"plain key", testKey, testKey, nil},
	{"access control", "#!::r=" + testKey + ",m=publish", testKey, nil},
	{"access control mode first", "#!::m=publish,r=abc,u=me", "abc", nil},
	{"access control no mode", "#!::r=abc", "abc", nil},
	{"publish prefix", "publish:abc", "abc", nil},
	{"percent-encoded", "%23%21%3A%3Ar%3Dabc%2Cm%3Dpublish", "abc", nil},
	{"bad escape", "abc%zz", "", errBadStreamID},
	{"request mode", "#!::r=abc,m=request", "", errNotPublish},
	{"read prefix", "read:abc", "", errNotPublish},
	{"access control no key", "#!::m=publish", "", errNoKey},
	{"access control malformed", "#!::rabc", "", errBadStreamID},
	{"empty", "", "", errNoKey},
	{"slash", "live/abc", "", errBadKey},
	{"query", "abc&passphrase=x", "", errBadKey},
	{"long key", strings.Repeat("k", MaxStreamKeyLen+1), "", errBadKey},
	{"long id", strings.Repeat("k", maxStreamIDLen+1), "", errStreamIDLimit},
	{"too many fields", "#!::" + strings.Repeat("a=b,", maxStreamIDFields) + "r=abc", "", errBadStreamID},
}

func TestStreamKeyFromStreamID(t *testing.T) {
	t.Parallel()
	for _, tc := range streamIDCases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := StreamKeyFromStreamID(tc.id)
			if !errors.Is(err, tc.err) || key != tc.key {
				t.Fatalf("got (%q, %v), want (%q, %v)", key, err, tc.key, tc.err)
			}
		})
	}
}

func FuzzStreamKeyFromStreamID(f *testing.F) {
	for _, tc := range streamIDCases {
		f.Add(tc.id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		key, err := StreamKeyFromStreamID(id)
		if err != nil {
			if key != "" {
				t.Fatal("key returned with an error")
			}
			return
		}
		if key == "" || len(key) > MaxStreamKeyLen || strings.ContainsAny(key, ",=/?#: \x00") {
			t.Fatalf("accepted key %q", key)
		}
		if !strings.Contains(id, key) && !strings.Contains(id, "%") {
			t.Fatalf("key %q not in id %q", key, id)
		}
	})
}
