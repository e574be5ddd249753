package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/cli/awscmd"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/obs"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "help" {
			fmt.Fprint(stdout, config.Usage())
			return 0
		}
	}
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "stagecast serve: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	log := obs.NewLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	defer heapFloor(cfg.GCMinHeapMiB)()
	// A diagnostic: STAGECAST_CPUPROFILE=FILE writes a pprof CPU profile
	// of the whole run, stopped at shutdown (docs/config.md).
	if path := os.Getenv("STAGECAST_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				_ = f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "stagecast serve: cpu profile: %v\n", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "stagecast serve: %v\n", err)
		return 1
	}
	printBanner(stdout, a)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "stagecast serve: %v\n", err)
		return 1
	}
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// printBanner tells the operator where everything is. The secret is shown
// only when this start generated it; afterwards it stays in the profile
// file (0600) that the CLI reads.
func printBanner(w io.Writer, a *app.App) {
	cfg := a.Config()
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		abs = cfg.DataDir
	}
	fmt.Fprintf(w, "Stagecast %s is running.\n\n", Version)
	fmt.Fprintf(w, "  API endpoint:      %s   (AWS SDKs: set the endpoint URL; service ivs and ivs-realtime)\n", a.APIEndpoint())
	fmt.Fprintf(w, "  Region:            %s\n", cfg.Region)
	fmt.Fprintf(w, "  Account:           %s\n", cfg.AccountID)
	fmt.Fprintf(w, "  Media HTTP:        %s\n", a.MediaEndpoint())
	fmt.Fprintf(w, "  Ingest:            %s<streamKey>  %s<streamKey>  srt://%s?streamid=<streamKey>&passphrase=<srt passphrase>\n", a.Identity.RTMPURL(), a.Identity.RTMPSURL(), a.Identity.SRTEndpoint())
	fmt.Fprintf(w, "  Pages:             %s/playback (player)  %s/stage (stage app)  %s/broadcast\n", a.MediaEndpoint(), a.MediaEndpoint(), a.MediaEndpoint())
	fmt.Fprintf(w, "  Metrics:           %s/metrics (Prometheus text)\n", a.MediaEndpoint())
	fmt.Fprintf(w, "  Data directory:    %s\n", abs)
	fmt.Fprintf(w, "  Access key id:     %s\n", a.Credentials.ID)
	if a.NewKey {
		fmt.Fprintf(w, "  Secret access key: %s   (generated now; also saved in the CLI profile)\n", a.Credentials.Secret)
	} else {
		fmt.Fprintf(w, "  Secret access key: stored in %s\n", awscmd.ProfilePath(abs))
	}
	fmt.Fprintf(w, "\nTry:  stagecast ivs create-channel --name demo --data-dir %s\n", cfg.DataDir)
	fmt.Fprintf(w, "      (or: AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=... aws ivs list-channels --endpoint-url %s --region %s)\n\n", a.Credentials.ID, a.APIEndpoint(), cfg.Region)
}
