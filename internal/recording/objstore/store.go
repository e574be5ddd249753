package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Store writes whole objects.
type Store interface {
	// Put stores body under bucket/key, replacing any previous object.
	Put(ctx context.Context, bucket, key string, body []byte, contentType string) error
	// Get reads an object back (tests, tools).
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns the keys under prefix in bucket, sorted.
	List(ctx context.Context, bucket, prefix string) ([]string, error)
}

// Limits on names, checked before any I/O.
const (
	// maxKeyLen is S3's object key limit (bytes).
	maxKeyLen = 1024
	// maxBucketLen is S3's (and IVS's bucketName) limit.
	maxBucketLen = 63
)

// ErrNotFound is returned by Get for a missing object.
var ErrNotFound = errors.New("object not found")

// CheckBucket reports whether name is a valid bucket name (3-63
// characters of a-z, 0-9, '-' and '.').
func CheckBucket(name string) error { return checkName(name, "k") }

// checkName rejects bucket names and keys that are not valid in S3 or that
// would escape the bucket in a directory tree.
func checkName(bucket, key string) error {
	if len(bucket) < 3 || len(bucket) > maxBucketLen {
		return fmt.Errorf("bucket %q: length is not 3-%d", bucket, maxBucketLen)
	}
	for _, c := range bucket {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("bucket %q: only a-z, 0-9, '-' and '.' are allowed", bucket)
		}
	}
	if bucket == "." || bucket == ".." || strings.Contains(bucket, "..") {
		return fmt.Errorf("bucket %q: not a valid name", bucket)
	}
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("key %q: length is not 1-%d", key, maxKeyLen)
	}
	if strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("key %q: not a relative slash-separated path", key)
	}
	for p := range strings.SplitSeq(key, "/") {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("key %q: empty, . or .. path element", key)
		}
	}
	return nil
}
