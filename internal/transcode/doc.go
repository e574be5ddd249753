// Package transcode is the only package that runs child processes. It
// supervises ffmpeg (or any binary named by config.Transcode), plans IVS
// renditions ladders, runs the ladder encoder of a channel and makes
// thumbnails.
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
//			// io.Extra[0] (fd 3) and io.Extra[1] (fd 4): write video and audio;
//			// io.Stdout: read the output. Return when ctx is done or the
//			// pipes fail; start and wait for any goroutines here.
//		},
//	}, log)
//	err := p.Run(ctx) // supervised: restarts until ctx is done
//	ex, err := p.RunOnce(ctx) // or one run
//
// The child runs in its own process group with stdin, stdout and Pipes[i]
// (fd 3+i, ffmpeg's "pipe:3") connected to os.Pipe ends; what is not asked
// for is /dev/null. Stopping (ctx done, or Attach failing) sends SIGINT to
// the group, then SIGKILL after config.Transcode.StopGrace. The child is
// always waited for; its real exit status and CPU times (rusage) are in
// Exit, logged, and passed to Spec.OnExit. Stderr is logged line by line
// (\r or \n ends a line), at most StderrLines lines per StderrWindow, the
// rest counted and reported once per window; the last lines go into Exit.
//
// Run restarts a child that died after RestartMin (500 ms by default),
// doubling up to RestartMax for children that keep dying quickly. Attach is
// called again for every incarnation with fresh pipes (Pipes.Incarnation
// counts from 1), so callers re-attach their readers and writers there.
// Attach returning ErrInputDone means "no more input": the child is left to
// drain and exit, and Run returns nil without a restart.
//
// # Goroutines
//
// Run and RunOnce block; they own every goroutine of an incarnation (the
// wait, the stderr reader, Attach) and return only after all of them have
// exited. Attach must not leave goroutines behind. Ladder.Run and
// Thumbnailer.Run likewise return after their process and goroutines have
// exited. Nothing in this package is fire-and-forget.
//
// # Ladder
//
// Plan(channelType, preset, source) returns the renditions IVS documents
// for a channel type (pure; never above the source). NewLadder builds one
// ffmpeg per channel that decodes the source once and encodes every
// rendition (split + scale, libx264, aligned key frames); Ladder.Run feeds
// it the source as MPEG-TS on stdin and publishes each rendition, read back
// as MPEG-TS from fd 3+i, on its own stream.Hub (Ladder.Hub(i)). Output
// timestamps keep the source's (-copyts); after a restart the first unit of
// each rendition carries Discontinuity.
//
// # Thumbnailer
//
// Thumbnailer keeps one ffmpeg per source that writes a JPEG every
// interval (fps=1/N) to its stdout; each JPEG is passed to a callback.
package transcode
