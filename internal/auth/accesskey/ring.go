package accesskey

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// fileVersion is the only keyring file format version understood.
	fileVersion = 1

	// maxFileBytes bounds the keyring file we read. A key takes ~200 bytes,
	// so 4 MiB is ~20,000 keys, far beyond any deployment, while bounding
	// memory if the path points at something else.
	maxFileBytes = 4 << 20

	// maxDescriptionBytes bounds a key description; it is a label shown by
	// `stagecast keys list`, not a document.
	maxDescriptionBytes = 256

	// reloadInterval is the minimum time between two stats of the file by
	// SecretFor, which bounds the cost of lookups (including lookups of
	// unknown ids sent by strangers) to one stat per second.
	reloadInterval = time.Second

	// filePerm and dirPerm keep secrets private to the server's user.
	filePerm fs.FileMode = 0o600
	dirPerm  fs.FileMode = 0o700
)

// ErrNotFound is returned by Delete for an unknown access key id.
var ErrNotFound = errors.New("access key not found")

// Ring is a file-backed keyring of access keys. It is safe for concurrent
// use, and several processes may share its file.
type Ring struct {
	path string

	// mu serializes Create, Delete and Reload in this process, so a
	// snapshot from an older file never replaces a newer one.
	mu sync.Mutex

	// snap is the current immutable snapshot, read without locks.
	snap atomic.Pointer[snapshot]
	// nextCheck is the earliest time (UnixNano) SecretFor stats the file again.
	nextCheck atomic.Int64
}

// snapshot is an immutable view of the file.
type snapshot struct {
	byID   map[string]Key
	sorted []Key // by Created, then ID
	stamp  fileStamp
}

// fileStamp identifies the file version a snapshot was loaded from.
type fileStamp struct {
	info fs.FileInfo // nil when the file did not exist
}

func (s fileStamp) matches(info fs.FileInfo) bool {
	if s.info == nil || info == nil {
		return s.info == nil && info == nil
	}
	return os.SameFile(s.info, info) && s.info.Size() == info.Size() && s.info.ModTime().Equal(info.ModTime())
}

// fileFormat is the JSON layout of the keyring file.
type fileFormat struct {
	Version int       `json:"version"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID          string    `json:"id"`
	Secret      string    `json:"secret"`
	Created     time.Time `json:"created"`
	Description string    `json:"description,omitempty"`
}

// Open loads the keyring stored at path. A missing file is an empty ring;
// nothing is created until the first Create. If the file is readable by
// group or others, Open restricts it to 0600 (and fails if it cannot).
func Open(path string) (*Ring, error) {
	if path == "" {
		return nil, errors.New("open access keys: empty path")
	}
	r := &Ring{path: path}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&^filePerm != 0 {
		if err := os.Chmod(path, filePerm); err != nil {
			return nil, fmt.Errorf("open access keys: restrict permissions of %s (mode %v): %w", path, info.Mode().Perm(), err)
		}
	}
	s, err := load(path)
	if err != nil {
		return nil, err
	}
	r.snap.Store(s)
	r.nextCheck.Store(time.Now().Add(reloadInterval).UnixNano())
	return r, nil
}

// Path returns the keyring file path.
func (r *Ring) Path() string { return r.path }

// List returns all keys sorted by creation time (then id).
func (r *Ring) List() []Key {
	return slices.Clone(r.snap.Load().sorted)
}

// Get returns the key with the given id.
func (r *Ring) Get(id string) (Key, bool) {
	r.refreshIfDue()
	k, ok := r.snap.Load().byID[id]
	return k, ok
}

// SecretFor returns the secret of the access key id. It implements
// sigv4.Credentials. At most once per second it first checks whether the
// file changed and reloads it, so keys created or deleted by another process
// take effect within about a second.
func (r *Ring) SecretFor(id string) (string, bool) {
	r.refreshIfDue()
	k, ok := r.snap.Load().byID[id]
	return k.Secret, ok
}

// refreshIfDue stats the file if reloadInterval has passed since the last
// check and reloads it when it changed. Only one caller does the check; the
// others use the current snapshot.
func (r *Ring) refreshIfDue() {
	now := time.Now().UnixNano()
	next := r.nextCheck.Load()
	if now < next || !r.nextCheck.CompareAndSwap(next, now+int64(reloadInterval)) {
		return
	}
	info, err := os.Stat(r.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return // transient; keep serving the current snapshot
		}
		info = nil
	}
	if r.snap.Load().stamp.matches(info) {
		return
	}
	// Never block a request behind a writer of this process: it is about
	// to publish a snapshot read from disk under the file lock anyway.
	if !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	// A parse error keeps the old snapshot; the next check retries because
	// the stamp still differs.
	if s, err := load(r.path); err == nil {
		r.snap.Store(s)
	}
}

// Reload re-reads the file. A missing file yields an empty ring. On error
// the current keys stay in effect.
func (r *Ring) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := load(r.path)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	return nil
}

// Create generates a new key, persists it and returns it (including its
// secret, which the caller shows to the operator once).
func (r *Ring) Create(description string) (Key, error) {
	if len(description) > maxDescriptionBytes {
		return Key{}, fmt.Errorf("create access key: description longer than %d bytes", maxDescriptionBytes)
	}
	var created Key
	err := r.update(func(keys map[string]Key) error {
		for {
			k, err := newKey(description, time.Now())
			if err != nil {
				return err
			}
			if _, dup := keys[k.ID]; dup {
				continue // 36^16 ids: practically never
			}
			keys[k.ID] = k
			created = k
			return nil
		}
	})
	if err != nil {
		return Key{}, fmt.Errorf("create access key: %w", err)
	}
	return created, nil
}

// Delete removes the key with the given id and persists the change. It
// returns an error wrapping ErrNotFound if there is no such key.
func (r *Ring) Delete(id string) error {
	err := r.update(func(keys map[string]Key) error {
		if _, ok := keys[id]; !ok {
			return ErrNotFound
		}
		delete(keys, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete access key %s: %w", id, err)
	}
	return nil
}

// update applies fn to the keys currently on disk and writes the result,
// holding the in-process mutex and the cross-process file lock.
func (r *Ring) update(fn func(keys map[string]Key) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(r.path), dirPerm); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	unlock, err := lockFile(r.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()

	cur, err := load(r.path)
	if err != nil {
		return err
	}
	keys := make(map[string]Key, len(cur.byID)+1)
	for id, k := range cur.byID {
		keys[id] = k
	}
	if err := fn(keys); err != nil {
		return err
	}
	data, err := encode(keys)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(r.path, data); err != nil {
		return err
	}
	info, err := os.Stat(r.path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", r.path, err)
	}
	r.snap.Store(newSnapshot(keys, fileStamp{info: info}))
	return nil
}

// load reads and validates the file at path.
func load(path string) (*snapshot, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newSnapshot(nil, fileStamp{}), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read access keys: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read access keys: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read access keys: %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read access keys %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("read access keys %s: file larger than %d bytes", path, maxFileBytes)
	}
	keys, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("read access keys %s: %w", path, err)
	}
	return newSnapshot(keys, fileStamp{info: info}), nil
}

func decode(data []byte) (map[string]Key, error) {
	keys := make(map[string]Key)
	if len(bytes.TrimSpace(data)) == 0 {
		return keys, nil // an empty file is an empty ring
	}
	var ff fileFormat
	if err := json.Unmarshal(data, &ff); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if ff.Version != fileVersion {
		return nil, fmt.Errorf("unsupported version %d (want %d)", ff.Version, fileVersion)
	}
	for i, fk := range ff.Keys {
		switch {
		case !validID(fk.ID):
			return nil, fmt.Errorf("key %d: invalid id %q", i, fk.ID)
		case fk.Secret == "":
			return nil, fmt.Errorf("key %s: empty secret", fk.ID)
		}
		if _, dup := keys[fk.ID]; dup {
			return nil, fmt.Errorf("key %s: duplicate id", fk.ID)
		}
		keys[fk.ID] = Key(fk)
	}
	return keys, nil
}

func encode(keys map[string]Key) ([]byte, error) {
	ff := fileFormat{Version: fileVersion, Keys: make([]fileKey, 0, len(keys))}
	for _, k := range sortedKeys(keys) {
		ff.Keys = append(ff.Keys, fileKey(k))
	}
	data, err := json.MarshalIndent(ff, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode access keys: %w", err)
	}
	return append(data, '\n'), nil
}

func newSnapshot(keys map[string]Key, stamp fileStamp) *snapshot {
	if keys == nil {
		keys = map[string]Key{}
	}
	return &snapshot{byID: keys, sorted: sortedKeys(keys), stamp: stamp}
}

func sortedKeys(keys map[string]Key) []Key {
	out := make([]Key, 0, len(keys))
	for _, k := range keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory (mode 0600), fsync, rename, then a best-effort fsync of the
// directory so the rename itself is durable.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write access keys: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(filePerm); err != nil {
		return fmt.Errorf("write access keys: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write access keys: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write access keys: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write access keys: close: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write access keys: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
