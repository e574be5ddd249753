package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/stagecast/stagecast/internal/auth/accesskey"
)

const keysUsage = `Usage:
  stagecast keys create [--description TEXT]   create an access key; prints its id and secret once
  stagecast keys list                          list access key ids (never secrets)
  stagecast keys delete KEY_ID                 delete an access key (requests signed with it fail at once)
Every subcommand takes --data-dir DIR (or STAGECAST_DATA_DIR; default ./data).
A running server picks up changes within a second.
`

func keys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, keysUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("STAGECAST_DATA_DIR", "./data"), "data directory")
	desc := fs.String("description", "", "what the key is for")
	// Accept flags before and after the positional KEY_ID.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	ring, err := accesskey.Open(filepath.Join(*dataDir, "access-keys.json"))
	if err != nil {
		fmt.Fprintf(stderr, "stagecast keys: %v\n", err)
		return 1
	}
	switch args[0] {
	case "create":
		k, err := ring.Create(*desc)
		if err != nil {
			fmt.Fprintf(stderr, "stagecast keys create: %v\n", err)
			return 1
		}
		out, _ := json.MarshalIndent(map[string]any{"AccessKey": map[string]string{
			"AccessKeyId": k.ID, "SecretAccessKey": k.Secret, "CreateDate": k.Created.UTC().Format(time.RFC3339), "Description": k.Description,
		}}, "", "    ")
		fmt.Fprintln(stdout, string(out))
		return 0
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tCREATED\tDESCRIPTION")
		for _, k := range ring.List() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Created.UTC().Format(time.RFC3339), k.Description)
		}
		_ = tw.Flush()
		return 0
	case "delete":
		if len(positional) != 1 {
			fmt.Fprint(stderr, "stagecast keys delete: give exactly one KEY_ID\n")
			return 2
		}
		if err := ring.Delete(positional[0]); err != nil {
			if errors.Is(err, accesskey.ErrNotFound) {
				fmt.Fprintf(stderr, "stagecast keys delete: no access key %q\n", positional[0])
				return 1
			}
			fmt.Fprintf(stderr, "stagecast keys delete: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "deleted %s\n", positional[0])
		return 0
	}
	fmt.Fprintf(stderr, "stagecast keys: unknown subcommand %q\n%s", args[0], keysUsage)
	return 2
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
