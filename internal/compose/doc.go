// Package compose is server-side composition: it mixes a stage's
// publishers into one picture (IVS grid or pip layout, package layout) with
// one mixed audio track, encodes it and delivers it to the composition's
// destinations, without a browser.
//
// # Pipeline
//
// For every publisher the composition subscribes through Stages and runs
// two ffmpeg decoders (transcode.Process): video (H.264 as Annex-B or VP8
// as IVF on stdin) out as YUV4MPEG2 at about the tile size, and audio
// (Opus or AAC in MPEG-TS on stdin) out as s16le 48 kHz stereo. The latest
// decoded picture of each publisher is kept (a stalled source holds its last
// frame). On the output clock a compositor draws the tiles into a yuv420p
// canvas (package canvas: bilinear scaling with the fill mode, background
// colour, gaps) and a mixer (package mix) sums 20 ms of audio. Both go to one
// ffmpeg encoder per encoder configuration: raw video on fd 3, raw PCM on fd
// 4, H.264 (libx264, key frame every 2 s, no B-frames) and AAC out as
// MPEG-TS on stdout, which is demuxed into media.Units and passed to each
// destination's Writer.
//
// The output clock is wall time: frame n is due at n/fps and audio frame k at
// k*20 ms from the start, and both encoder inputs are timestamped by count,
// so they stay in sync; frames the compositor could not render in time are
// repeated rather than skipped. Joins, leaves and mutes only change the
// tiles: the encoder keeps running and its timestamps never restart (an
// encoder restart after a crash is offset to continue and flagged
// Discontinuity).
//
// # Lifecycle
//
// Composer.Start begins a composition (STARTING); it becomes ACTIVE when the
// first unit reached a destination. Destinations go STARTING, ACTIVE,
// RECONNECTING (their Writer ended; Start is retried with backoff) and
// FAILED after the retries; the composition FAILS when every destination
// failed. Stop, Composer.Run's context ending, or IdleTimeout without a
// publisher end it STOPPING then STOPPED. Every change is reported through
// Options.OnState, from the composition's goroutines (its main loop and its
// destination runners, so calls may be concurrent), never under a lock.
//
// # Goroutines
//
// Composer.Run owns every composition; a composition owns its watch loop,
// clocks, encoders, destinations and participants, and a participant owns
// its decoders. Stop returns after the composition's goroutines and
// processes have exited; Run returns after all compositions have.
package compose
