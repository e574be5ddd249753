package awscmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ProfileFileName is the name of the Stagecast profile file inside the data
// directory.
const ProfileFileName = "profile.json"

// maxProfileSize bounds how much of a profile file is read: the file holds
// four short strings, so anything larger is not a profile.
const maxProfileSize = 64 << 10

// Profile is the connection profile `stagecast serve` writes to
// <data dir>/profile.json so that `stagecast ivs ...` finds the local
// server without any flags.
type Profile struct {
	EndpointURL     string `json:"endpoint_url"`
	Region          string `json:"region"`
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
}

// ProfilePath returns the profile file path inside dataDir.
func ProfilePath(dataDir string) string {
	return filepath.Join(dataDir, ProfileFileName)
}

// WriteProfile writes p to path atomically: the parent directory is created
// with mode 0700, the file is written to a temporary name with mode 0600 and
// renamed into place.
func WriteProfile(path string, p Profile) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create profile dir: %w", err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(dir, ".profile-*.tmp")
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	tmp := f.Name()
	cleanup := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		return cleanup(fmt.Errorf("chmod profile: %w", err))
	}
	if _, err := f.Write(data); err != nil {
		return cleanup(fmt.Errorf("write profile: %w", err))
	}
	if err := f.Sync(); err != nil {
		return cleanup(fmt.Errorf("sync profile: %w", err))
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("close profile: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("install profile: %w", err)
	}
	return nil
}

// ReadProfile reads a profile written by WriteProfile. A missing file is
// reported with an error wrapping fs.ErrNotExist.
func ReadProfile(path string) (Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return Profile{}, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	var p Profile
	dec := json.NewDecoder(&limitedReader{r: f, n: maxProfileSize})
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("parse profile %s: %w", path, err)
	}
	return p, nil
}

// limitedReader is io.LimitReader that fails instead of silently
// truncating, so an oversized file is an error rather than bad JSON.
type limitedReader struct {
	r io.Reader
	n int64
}

var errProfileTooLarge = errors.New("profile file too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errProfileTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
