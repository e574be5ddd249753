// Package recording implements IVS "auto-record to S3" for channels: each
// live stream of a channel whose recording configuration is set is written
// as HLS (MPEG-TS segments cut at key frames, one playlist per rendition,
// a master playlist), with thumbnails and the events/recording-*.json
// metadata files, under the IVS key prefix
// ivs/v1/<account>/<channel id>/<y>/<m>/<d>/<h>/<mm>/<recording id>/ of the
// configuration's bucket. The bucket lives in a local directory or on an
// S3-compatible server (package objstore).
//
// Main types: Manager (one per node) with StreamStarted / StreamEnded,
// called by the live session; Thumbnailer, implemented by package
// transcode. Manager.StartComposite records a composition's S3
// destination the same way (one rendition under the destination's
// recordingPrefix) and returns a CompositeRecording, a compose.Writer.
//
// Goroutines. Manager owns all of them and Close (or Run's return) waits
// for every one: per recording one uploader that runs the recording's jobs
// (segment, playlist, metadata and thumbnail writes) in order; per stream
// one runStream goroutine with one segmenter per rendition and an optional
// thumbnailer; per ending recording one finalize goroutine. The reconnect
// window is a time.AfterFunc whose callback only takes the lock and
// decides.
//
// Back-pressure. Nothing here blocks the live path: units arrive through
// hub readers (bounded, dropping), and finished segments go to the
// recording's bounded upload queue without waiting; when the queue is full
// the segment is dropped, counted and logged (aggregated), and the
// playlist simply never lists it. Each write is retried with exponential
// backoff; a write given up marks the recording failed
// (recording-failed.json, Recording End Failure).
//
// Crash safety. Objects are written whole (objstore), a segment is listed
// in its playlist only after it is stored, and playlists only grow
// (EVENT playlists, VOD with EXT-X-ENDLIST at the end). A process killed
// mid-stream leaves a playlist whose every segment plays.
//
// Reconnects. A stream that starts within recordingReconnectWindowSeconds
// of the previous one's end continues the same recording: same prefix,
// same playlists, EXT-X-DISCONTINUITY before its first segment, timestamps
// continuing the recording's timeline. The recording ends (ENDLIST,
// recording-ended.json, Recording End) when the window passes, or at
// Close.
//
// Locks: Manager.mu guards the recordings map and their stream state; it
// is never held while calling the store, the publisher or a hub.
// recording.tlMu and recording.dropMu are leaves.
package recording
