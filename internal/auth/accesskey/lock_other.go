//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package accesskey

// lockFile is a no-op where flock is unavailable: writers in one process are
// still serialized by Ring.mu, and across processes the last writer wins.
func lockFile(string) (unlock func(), err error) {
	return func() {}, nil
}
