// Package stream is the hub between one publisher and many readers
// (packagers, transcoder, recorder, compositor).
//
// The publisher calls Hub.Write, which never blocks: each reader has a
// bounded queue, and a reader whose queue is full loses the unit. The drop
// is counted, logged as one aggregated warning per reader every few
// seconds, and the reader skips video until the next key frame so that its
// decoder or segmenter restarts cleanly; the first unit it gets after a gap
// carries Discontinuity.
package stream
