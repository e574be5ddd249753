package objstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		bucket, key string
		ok          bool
	}{
		{"my-bucket", "ivs/v1/1/a/0.ts", true},
		{"my.bucket", "a", true},
		{"ab", "a", false},                      // bucket too short
		{strings.Repeat("a", 64), "a", false},   // bucket too long
		{"My-Bucket", "a", false},               // upper case
		{"a..b", "a", false},                    // dot-dot
		{"bucket", "", false},                   // empty key
		{"bucket", "/abs", false},               // absolute
		{"bucket", "a/../../etc/passwd", false}, // escapes
		{"bucket", "a//b", false},               // empty element
		{"bucket", "a/./b", false},              // dot element
		{"bucket", "a\\b", false},               // backslash
		{"bucket", "a\x00b", false},             // NUL
		{"bucket", strings.Repeat("k", 1025), false},
	}
	for _, c := range cases {
		err := checkName(c.bucket, c.key)
		if (err == nil) != c.ok {
			t.Errorf("checkName(%q, %q) = %v, want ok %v", c.bucket, c.key, err, c.ok)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range [][2]string{{"my-bucket", "ivs/v1/a.ts"}, {"b..", "../x"}, {"abc", "a//b"}, {"abc", "x/./y"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, bucket, key string) {
		if checkName(bucket, key) != nil {
			return
		}
		// An accepted name stays inside the bucket directory.
		root := "/r"
		p := filepath.Join(root, bucket, filepath.FromSlash(key))
		if !strings.HasPrefix(p, filepath.Join(root, bucket)+"/") {
			t.Fatalf("accepted %q %q escapes to %s", bucket, key, p)
		}
	})
}

func TestLocalPutGetList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := NewLocal(dir)
	ctx := context.Background()
	for _, k := range []string{"p/b/2.ts", "p/a.json", "q/x"} {
		if err := l.Put(ctx, "bucket", k, []byte("v-"+k), "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing keeps one file and no temporary left behind.
	if err := l.Put(ctx, "bucket", "p/a.json", []byte("new"), ""); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Get(ctx, "bucket", "p/a.json"); err != nil || string(b) != "new" {
		t.Fatalf("get %q %v", b, err)
	}
	if _, err := l.Get(ctx, "bucket", "p/none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	keys, err := l.List(ctx, "bucket", "p/")
	if err != nil || !slices.Equal(keys, []string{"p/a.json", "p/b/2.ts"}) {
		t.Fatalf("list %v %v", keys, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "bucket", "p"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
	if err := l.Put(ctx, "bucket", "../escape", []byte("x"), ""); err == nil {
		t.Fatal("put outside the bucket accepted")
	}
	if keys, _ := l.List(ctx, "nobucket", ""); len(keys) != 0 {
		t.Fatalf("missing bucket lists %v", keys)
	}
}
