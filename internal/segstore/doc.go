// Package segstore keeps the recent media of live channels in memory: per
// channel a set of renditions, per rendition an init segment and a sliding
// window of segments, each a sequence of parts (CMAF fragments or MPEG-TS
// chunks). The origin serves playlists, segments and parts from it.
//
// Ownership: Store.Open registers a channel and returns its *Channel; the
// live session owns it, adds renditions and calls Channel.Close when the
// stream ends. Each Rendition has exactly one writer (its segmenter), which
// calls SetInit, StartSegment, AddPart, AddFinalPart (a segment's last
// part and its completion, published together), MarkDiscontinuity and
// EndSegment from one goroutine.
//
// Readers never lock: every write publishes a new immutable *Snapshot
// through an atomic pointer (copy on write of a few pointers; part data is
// shared, never copied). A snapshot carries a channel that is closed when
// the next snapshot is published, so a blocking LL-HLS request (Wait,
// WaitAny, WaitComplete) selects on it, the request context and a timer,
// and wakes as soon as the part it wants exists. Snapshot.Cached keeps
// what the origin renders from a snapshot (the playlist), so thousands of
// woken readers share one rendering. The package starts no goroutines; Wait blocks its
// caller only.
//
// The optional Options.OnSegment hook runs on the writer's goroutine after
// a segment completes (recording uses it); it must not block for long.
package segstore
