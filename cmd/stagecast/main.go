// Command stagecast is the whole Stagecast platform in one binary: the
// server (stagecast serve) and its command-line clients.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stagecast/stagecast/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
