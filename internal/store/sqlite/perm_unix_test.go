//go:build unix

package sqlite_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stagecast/stagecast/internal/store"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

// TestFilePermissions is not parallel: it changes the process umask, which
// would leak into tests running at the same time.
func TestFilePermissions(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"new file", func(t *testing.T, path string) {}},
		{"existing file with loose mode", func(t *testing.T, path string) {
			db, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			path := filepath.Join(dir, "store.db")
			tt.prepare(t, path)

			old := syscall.Umask(0) // most permissive umask; Open must not depend on it
			db, err := sqlite.Open(t.Context(), path)
			syscall.Umask(old)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Write something so that the WAL file has content.
			if err := store.Create(t.Context(), db, &store.Record{Key: "k", Kind: "internal"}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Errorf("stat: %v", err)
					continue
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %o, want 600", filepath.Base(p), got)
				}
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "new file" && fi.Mode().Perm() != 0o700 {
				t.Errorf("directory mode %o, want 700", fi.Mode().Perm())
			}
		})
	}
}
