// Package objstore writes recording objects (segments, playlists, metadata
// JSON, thumbnails) to a bucket: a local directory tree (Local, the default)
// or an S3-compatible server (S3).
//
// Every Put writes a whole object atomically: Local writes a temporary file
// and renames it into place, S3 sends one PutObject. So a reader (or a
// process killed mid-write) never sees a half-written object. Put blocks
// until the object is stored or ctx ends; it makes one attempt, and the
// caller (recording's uploader) owns retries and backoff. Neither store
// starts goroutines.
package objstore
