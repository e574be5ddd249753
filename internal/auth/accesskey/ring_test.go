package accesskey_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth/accesskey"
	"github.com/stagecast/stagecast/internal/auth/sigv4"
)

// *Ring must satisfy the verifier's credential lookup.
var _ sigv4.Credentials = (*accesskey.Ring)(nil)

var (
	idPattern     = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func keysPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "state", "keys.json")
}

func TestOpenMissingFileCreatesNothing(t *testing.T) {
	t.Parallel()
	path := keysPath(t)
	r, err := accesskey.Open(path)
	require.NoError(t, err)
	require.Empty(t, r.List())
	_, ok := r.SecretFor("AKIAAAAAAAAAAAAAAAAA")
	require.False(t, ok)
	_, err = os.Stat(filepath.Dir(path))
	require.ErrorIs(t, err, os.ErrNotExist, "Open must not create the directory")
}

func TestCreateListDeletePersist(t *testing.T) {
	t.Parallel()
	path := keysPath(t)
	r, err := accesskey.Open(path)
	require.NoError(t, err)

	k1, err := r.Create("ci pipeline")
	require.NoError(t, err)
	k2, err := r.Create("")
	require.NoError(t, err)
	k3, err := r.Create("dashboard")
	require.NoError(t, err)

	for _, k := range []accesskey.Key{k1, k2, k3} {
		require.Regexp(t, idPattern, k.ID)
		require.Regexp(t, secretPattern, k.Secret)
		require.Equal(t, time.UTC, k.Created.Location())
		secret, ok := r.SecretFor(k.ID)
		require.True(t, ok)
		require.Equal(t, k.Secret, secret)
	}
	require.Equal(t, []accesskey.Key{k1, k2, k3}, r.List(), "List is sorted by Created")

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dirInfo, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dirInfo.Mode().Perm())

	// Reopen: everything persisted.
	r2, err := accesskey.Open(path)
	require.NoError(t, err)
	require.Equal(t, r.List(), r2.List())

	require.NoError(t, r.Delete(k2.ID))
	require.ErrorIs(t, r.Delete(k2.ID), accesskey.ErrNotFound)
	require.ErrorIs(t, r.Delete("AKIANOSUCHKEY0000000"), accesskey.ErrNotFound)
	_, ok := r.SecretFor(k2.ID)
	require.False(t, ok)
	require.Equal(t, []accesskey.Key{k1, k3}, r.List())

	r3, err := accesskey.Open(path)
	require.NoError(t, err)
	require.Equal(t, []accesskey.Key{k1, k3}, r3.List())

	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"keys.json", "keys.json.lock"}, names)
}

func TestOpenRestrictsLoosePermissions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"keys":[]}`), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	_, err := accesskey.Open(path)
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestOpenRejectsBadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
	}{
		{"not json", `{"version":1,`},
		{"unknown version", `{"version":2,"keys":[]}`},
		{"invalid id", `{"version":1,"keys":[{"id":"nope","secret":"s","created":"2024-05-01T00:00:00Z"}]}`},
		{"empty secret", `{"version":1,"keys":[{"id":"AKIAAAAAAAAAAAAAAAAA","secret":"","created":"2024-05-01T00:00:00Z"}]}`},
		{"duplicate id", `{"version":1,"keys":[{"id":"AKIAAAAAAAAAAAAAAAAA","secret":"a"},{"id":"AKIAAAAAAAAAAAAAAAAA","secret":"b"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "keys.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			_, err := accesskey.Open(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), path)
		})
	}
}

func TestOpenHandwrittenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.json")
	content := `{"version":1,"keys":[
		{"id":"AKIAIOSFODNN7EXAMPLE","secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","created":"2024-05-01T12:00:00Z","description":"docs"}]}`
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	r, err := accesskey.Open(path)
	require.NoError(t, err)
	secret, ok := r.SecretFor("AKIAIOSFODNN7EXAMPLE")
	require.True(t, ok)
	require.Equal(t, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secret)
}

func TestSecretForSeesKeysFromAnotherProcess(t *testing.T) {
	t.Parallel()
	path := keysPath(t)
	server, err := accesskey.Open(path) // the running server
	require.NoError(t, err)
	cli, err := accesskey.Open(path) // `stagecast keys create` in another process
	require.NoError(t, err)

	k, err := cli.Create("from the cli")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		secret, ok := server.SecretFor(k.ID)
		return ok && secret == k.Secret
	}, 3*time.Second, 20*time.Millisecond, "key created by another Ring must become usable")

	// Deleting in the other process revokes the key here too.
	require.NoError(t, cli.Delete(k.ID))
	require.Eventually(t, func() bool {
		_, ok := server.SecretFor(k.ID)
		return !ok
	}, 3*time.Second, 20*time.Millisecond, "key deleted by another Ring must stop working")

	// Writers re-read the file under the lock: no update is lost.
	a, err := server.Create("a")
	require.NoError(t, err)
	b, err := cli.Create("b")
	require.NoError(t, err)
	require.NoError(t, server.Reload())
	require.Equal(t, []accesskey.Key{a, b}, server.List())
}

func TestConcurrentWritersDoNotLoseKeys(t *testing.T) {
	t.Parallel()
	path := keysPath(t)
	var rings []*accesskey.Ring
	for range 4 {
		r, err := accesskey.Open(path)
		require.NoError(t, err)
		rings = append(rings, r)
	}
	var wg sync.WaitGroup
	for i, r := range rings {
		wg.Go(func() {
			for j := range 5 {
				if _, err := r.Create(fmt.Sprintf("ring %d key %d", i, j)); err != nil {
					t.Errorf("create: %v", err)
				}
			}
		})
	}
	wg.Wait()
	final, err := accesskey.Open(path)
	require.NoError(t, err)
	require.Len(t, final.List(), 20)
}

func TestConcurrentSecretFor(t *testing.T) {
	t.Parallel()
	path := keysPath(t)
	r, err := accesskey.Open(path)
	require.NoError(t, err)
	other, err := accesskey.Open(path)
	require.NoError(t, err)
	k, err := r.Create("stable")
	require.NoError(t, err)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				secret, ok := r.SecretFor(k.ID)
				if !ok || secret != k.Secret {
					t.Errorf("SecretFor(%s) = %v", k.ID, ok)
					return
				}
				_, _ = r.SecretFor("AKIAUNKNOWNUNKNOWN00")
				_ = r.List()
			}
		})
	}
	for i := range 10 {
		nk, err := other.Create(fmt.Sprint(i))
		require.NoError(t, err)
		require.NoError(t, r.Reload())
		require.NoError(t, other.Delete(nk.ID))
	}
	close(stop)
	wg.Wait()
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	r, err := accesskey.Open(keysPath(t))
	require.NoError(t, err)
	k, err := r.Create("printer")
	require.NoError(t, err)

	outputs := []string{
		k.String(),
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %d", k, k, k, k, k, k, k),
		fmt.Sprintf("%v", []accesskey.Key{k}), fmt.Sprintf("%+v", struct{ K accesskey.Key }{k}),
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("key", "key", k)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("key", "key", k)
	outputs = append(outputs, logBuf.String())
	js, err := json.Marshal(k)
	require.NoError(t, err)
	outputs = append(outputs, string(js))

	for _, out := range outputs {
		require.NotContains(t, out, k.Secret)
	}
	require.Contains(t, k.String(), k.ID)
	require.Contains(t, logBuf.String(), k.ID)
}

func TestCreateRejectsLongDescription(t *testing.T) {
	t.Parallel()
	r, err := accesskey.Open(keysPath(t))
	require.NoError(t, err)
	_, err = r.Create(string(make([]byte, 257)))
	require.Error(t, err)
}
