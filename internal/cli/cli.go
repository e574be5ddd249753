package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/stagecast/stagecast/internal/cli/awscmd"
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

const usage = `stagecast: a self-hosted live video platform, wire-compatible with Amazon IVS.

Usage:
  stagecast serve [flags]              run a single-node server (stagecast serve --help)
  stagecast keys create|list|delete    manage API access keys
  stagecast rules create|list|get|delete|dead-letters   event rules and their targets
  stagecast ivs <command> [args]       low-latency API, like "aws ivs" (stagecast ivs help)
  stagecast ivs-realtime <command>     real-time API, like "aws ivs-realtime"
  stagecast bench tokens [flags]       benchmark signed CreateParticipantToken over HTTP
  stagecast bench ingest|glass|ladder|stage  ingest CPU, glass-to-glass latency, ladder CPU, SFU forwarding
  stagecast version                    print the version
`

// Main runs one command line and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "keys":
		return keys(args[1:], stdout, stderr)
	case "ivs", "ivs-realtime":
		return awscmd.Run(ctx, args[0], args[1:], awscmd.Env{Stdout: stdout, Stderr: stderr, Stdin: stdin, Getenv: os.Getenv})
	case "bench":
		return bench(ctx, args[1:], stdout, stderr)
	case "rules":
		return rules(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "stagecast", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "stagecast: unknown command %q\n\n%s", args[0], usage)
	return 2
}
