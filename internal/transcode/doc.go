// Package transcode is the only package that runs child processes. It
// supervises ffmpeg (or any binary named by config.Transcode), plans the
// IVS rendition ladders, runs a channel's ladder encoder and makes
// thumbnails. docs/transcode.md has the design notes and figures.
//
// # Process
//
// Process runs one binary with fixed arguments:
//
//	p := transcode.NewProcess(cfg.Transcode, transcode.Spec{
//		Name:   "encoder",
//		Path:   cfg.Transcode.FFmpeg,
//		Args:   []string{"-f", "rawvideo", ..., "-i", "pipe:3", "-f", "s16le", ..., "-i", "pipe:4", ..., "-f", "mpegts", "pipe:1"},
//		Stdout: true,
//		Pipes:  []transcode.PipeDir{transcode.ChildReads, transcode.ChildReads},
//		Attach: func(ctx context.Context, io *transcode.Pipes) error {
//			// io.Extra[0] (fd 3) and io.Extra[1] (fd 4): write video and
//			// audio; io.Stdout: read the output. Return when ctx is done or
//			// the pipes fail; start and wait for any goroutines here.
//		},
//	}, log)
//	err := p.Run(ctx)         // supervised: restarts until ctx is done
//	ex, err := p.RunOnce(ctx) // or one run
//
// The child runs in its own process group with stdin, stdout and Pipes[i]
// (fd 3+i, ffmpeg's "pipe:3") connected to os.Pipe ends; what is not asked
// for is /dev/null. The parent ends are *os.File from os.Pipe, so they
// support SetReadDeadline/SetWriteDeadline. Stopping (ctx done, or Attach
// failing) sends SIGINT to the group, then SIGKILL after
// config.Transcode.StopGrace. The child is always waited for; its real exit
// status and CPU times (rusage) are in Exit, logged, passed to Spec.OnExit
// and kept in LastExit; ChildCPU sums all incarnations. Stderr is logged
// line by line (\r or \n ends a line), at most StderrLines lines per
// StderrWindow, the rest counted and reported once per window; the last
// lines go into Exit.StderrTail.
//
// Run restarts a child that died after RestartMin (500 ms by default),
// doubling up to RestartMax for children that keep dying quickly, and
// starting again from RestartMin after a run of at least RestartMax.
// Attach is called again for every incarnation with fresh pipes
// (Pipes.Incarnation counts from 1), so callers re-attach their readers and
// writers there. Attach returning ErrInputDone means "no more input": the
// child is left to drain and exit, and Run returns nil without a restart.
// ErrRestart asks for a stop and an immediate start (no backoff). Run
// returns an error only when the binary cannot be started at all. The
// process group is signalled only while the child is not yet reaped
// (waitid WNOWAIT), so a reused PID is never hit; leftover grandchildren
// are killed when the child exits.
//
// # Goroutines
//
// Run and RunOnce block; they own every goroutine of an incarnation (the
// wait, the stderr reader, Attach) and return only after all of them have
// exited. Attach must not leave goroutines behind. Ladder.Run and
// Thumbnailer.Run likewise return after their process and goroutines have
// exited. Nothing in this package is fire-and-forget. Callbacks (Attach,
// OnExit, the thumbnail callback) are never called with a lock held.
//
// # Ladder
//
// Plan(channelType, preset, Source) returns the renditions IVS documents
// for a channel type (pure; never above the source): STANDARD is the source
// itself (Passthrough) plus 720p/480p/360p/160p below it, BASIC the source
// only, ADVANCED_HD/SD a transcoded ladder capped at 720p/480p with the
// HIGHER or CONSTRAINED preset. NewLadder builds one ffmpeg per channel
// that decodes the source once and encodes every transcoded rendition
// (split + scale, libx264 zerolatency, key frames forced where the source
// has them, so every rendition and the passthrough source switch at the
// same PTS). Ladder.Run feeds it the source as MPEG-TS on stdin and reads
// rendition i back as MPEG-TS from fd 3+i into units on its own stream.Hub.
// Hub(i) is the source hub for a passthrough rendition and the ladder's
// hub (created at the encoder's first key frame; nil before Ready) for a
// transcoded one. Output timestamps are the source's (-copyts and an
// offset removed on the way back); after an encoder restart the first unit
// of each track of each rendition carries Discontinuity and timestamps
// continue on the source timeline. A source that jumps to a new timeline
// (a reconnected publisher) restarts the encoder at once.
//
// # Thumbnailer
//
// Thumbnailer keeps one ffmpeg per source that writes a JPEG every
// Interval of source time (select filter: the first frame at once, then
// one at least Interval later; only key frames are decoded for intervals
// of 4 s and more) to its stdout; each JPEG is passed to a callback.
//
// # Benchmark
//
// BenchLadder compares the ladder's CPU (ffmpeg rusage plus this
// process) with a hand-written ffmpeg command over the same file; see
// BenchmarkLadderStandard and docs/transcode.md.
package transcode
