package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Local stores objects as files under Dir/<bucket>/<key>.
type Local struct {
	dir string
}

// NewLocal returns a store rooted at dir (created on first Put).
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Dir returns the root directory.
func (l *Local) Dir() string { return l.dir }

// Path returns the file an object is stored in.
func (l *Local) Path(bucket, key string) string {
	return filepath.Join(l.dir, bucket, filepath.FromSlash(key))
}

// Put writes body to a temporary file in the object's directory, syncs it
// and renames it into place.
func (l *Local) Put(ctx context.Context, bucket, key string, body []byte, _ string) error {
	if err := checkName(bucket, key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := l.Path(bucket, key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	tmp := f.Name()
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Get reads an object.
func (l *Local) Get(_ context.Context, bucket, key string) ([]byte, error) {
	if err := checkName(bucket, key); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(l.Path(bucket, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s/%s: %w", bucket, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	return b, nil
}

// List walks the bucket directory; temporary files are not listed.
func (l *Local) List(_ context.Context, bucket, prefix string) ([]string, error) {
	root := filepath.Join(l.dir, bucket)
	var keys []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}
