// Package accesskey is a file-backed keyring of API access keys: the
// AWS-style access key id / secret access key pairs that clients use to sign
// requests to the IVS-compatible API (see package sigv4).
//
// A [Ring] holds the keys of one JSON file (mode 0600, in a 0700 directory
// when the ring creates it). [Open] loads it and creates nothing when the
// file is absent. [Ring.Create] and [Ring.Delete] take an exclusive flock on
// "<file>.lock" (on platforms that support it), re-read the file, apply the
// change and replace the file atomically (temporary file in the same
// directory, fsync, rename), so the server and the `stagecast keys` CLI can
// edit the same file without losing each other's updates.
//
// [Ring.SecretFor] makes *Ring a sigv4.Credentials. It reads an immutable
// snapshot through an atomic pointer, so lookups never contend with writers.
// At most once per second it also stats the file and reloads it when the
// file changed (another inode, size or modification time): keys created by
// another process start working, and deleted keys stop working, within about
// a second without restarting the server. That stat and reload happen
// synchronously in the calling request (never waiting for a writer of the
// same Ring); a file that fails to parse keeps the previous snapshot and is
// retried on the next check.
//
// The package starts no goroutines. Create and Delete block on the file lock
// and on disk I/O; Open and Reload block on disk I/O.
//
// Secrets never reach logs through this package's types: [Key] formats and
// logs itself without its Secret, and Secret is excluded from JSON.
package accesskey
