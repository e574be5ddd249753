// Package media holds the protocol-neutral description of live media that
// every other media package speaks: tracks (codec, clock rate, codec
// configuration) and units (one access unit or audio frame with its
// timestamps). It does no I/O and imports no protocol package.
//
// Timestamps are in the track's clock rate (90 kHz for video, the sample
// rate for audio), as int64 ticks, so no precision is lost between ingest and
// packaging. Video payloads are NAL units without start codes (H.264, H.265)
// or one temporal unit of OBUs (AV1); audio payloads are raw frames (an AAC
// access unit without ADTS header, one Opus packet).
package media
