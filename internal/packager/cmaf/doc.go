// Package cmaf is the segmenter: it reads one rendition's media units from
// a stream.Reader and writes parts, segments and init segments into a
// segstore.Rendition.
//
// Output is CMAF fragmented MP4 (an init segment; every part a moof+mdat
// fragment; a segment is the concatenation of its parts), so HLS, DASH and
// CMAF manifests can be served from the same bytes. With segstore.TS the
// same cutting produces MPEG-TS chunks instead (each segment starts with
// PAT/PMT; parts are TS chunks, served as LL-HLS parts too).
//
// Cutting: a segment ends at the first video key frame at or after the
// segment target; a part ends before the video sample that would make it
// longer than the part target. A part is published when the first sample
// of the next part arrives, so the server adds at most one part plus one
// frame of latency. Audio-only renditions cut on audio frames.
//
// Timestamps are rebased onto a continuous timeline that starts at 10 s;
// a unit with Discontinuity (publisher reconnect, reader drop) ends the
// segment, the next one carries EXT-X-DISCONTINUITY and the timeline
// continues where it was.
//
// Timed metadata: InsertMetadata (safe from any goroutine) queues an ID3
// tag with one TXXX frame; the next part carries it as an emsg box (scheme
// https://aomedia.org/emsg/ID3) before its moof, or in TS as a PES on a
// timed-ID3 stream (stream type 0x15, format identifier "ID3 ").
//
// Goroutines: Run runs on the caller's goroutine and starts none; it
// returns when the reader's channel closes (nil) or ctx ends.
package cmaf
