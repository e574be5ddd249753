package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/cli/awscmd"
	"github.com/stagecast/stagecast/internal/events"
	"github.com/stagecast/stagecast/internal/events/admin"
)

const rulesUsage = `Usage:
  stagecast rules create --name NAME --event-pattern JSON TARGET [--description TEXT] [--disabled]
      TARGET is one of:
        --webhook URL [--secret S] [--timeout 10s]     POST the event, signed (a secret is generated when omitted)
        --exec "CMD ARGS" [--timeout 30s]              run CMD with the event JSON on stdin (no shell)
        --start-composition --destination-channel ARN [--encoder-configuration ARN]
                            [--stage ARN] [--layout grid|pip] [--layout-json JSON]
                                                       compose the event's stage into the channel
  stagecast rules list                      rules with delivery counts, failures and dead letters
  stagecast rules get NAME                  one rule as JSON (secrets redacted)
  stagecast rules delete NAME               delete a rule with its pending deliveries and dead letters
  stagecast rules dead-letters [NAME]       failed deliveries, as JSON

The server is found through --data-dir DIR (or STAGECAST_DATA_DIR; default ./data):
"stagecast serve" writes its endpoint and credentials there. --endpoint-url,
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and AWS_REGION override them.
Rules from the config file (events.rules, events.webhooks) are listed too but
can only be changed in the file.
`

func rules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, rulesUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("rules "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("STAGECAST_DATA_DIR", "./data"), "data directory of the server")
	endpoint := fs.String("endpoint-url", "", "control API URL (default: from the data directory's profile)")
	name := fs.String("name", "", "rule name")
	pattern := fs.String("event-pattern", "", "EventBridge event pattern (JSON)")
	desc := fs.String("description", "", "what the rule is for")
	disabled := fs.Bool("disabled", false, "create the rule disabled")
	webhook := fs.String("webhook", "", "webhook URL")
	secret := fs.String("secret", "", "webhook signing secret")
	execCmd := fs.String("exec", "", "command line to run")
	timeout := fs.Duration("timeout", 0, "per-attempt timeout")
	compose := fs.Bool("start-composition", false, "start a composition of the stage")
	channel := fs.String("destination-channel", "", "composition destination channel ARN")
	encoder := fs.String("encoder-configuration", "", "composition encoder configuration ARN")
	stage := fs.String("stage", "", "stage ARN (default: the stage in the event)")
	layout := fs.String("layout", "", "grid or pip")
	layoutJSON := fs.String("layout-json", "", "full IVS layout configuration (JSON)")
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
	fail := func(err error) int {
		fmt.Fprintf(stderr, "stagecast rules %s: %v\n", cmd, err)
		return 1
	}
	c, err := rulesClient(*dataDir, *endpoint)
	if err != nil {
		return fail(err)
	}
	arg := func() (string, bool) {
		if len(positional) != 1 {
			fmt.Fprintf(stderr, "stagecast rules %s: expected one rule NAME\n", cmd)
			return "", false
		}
		return positional[0], true
	}
	switch cmd {
	case "create":
		r := events.Rule{Name: *name, Description: *desc, Enabled: !*disabled, EventPattern: json.RawMessage(*pattern)}
		if *pattern == "" {
			return fail(errors.New("--event-pattern is required"))
		}
		if !json.Valid([]byte(*pattern)) {
			return fail(errors.New("--event-pattern is not JSON"))
		}
		targets := 0
		if *webhook != "" {
			targets++
			generated := *secret == ""
			if generated {
				*secret = randomSecret()
			}
			r.Targets = append(r.Targets, events.Target{Type: events.TargetWebhook, Webhook: &events.WebhookTarget{
				URL: *webhook, Secret: *secret, Timeout: events.Duration(*timeout)}})
		}
		if *execCmd != "" {
			targets++
			argv, err := events.SplitCommand(*execCmd)
			if err != nil {
				return fail(fmt.Errorf("--exec: %w", err))
			}
			r.Targets = append(r.Targets, events.Target{Type: events.TargetExec, Exec: &events.ExecTarget{
				Command: argv, Timeout: events.Duration(*timeout)}})
		}
		if *compose {
			targets++
			l, err := app.Layout(*layout, *layoutJSON)
			if err != nil {
				return fail(err)
			}
			r.Targets = append(r.Targets, events.Target{Type: events.TargetStartComposition, StartComposition: &events.StartCompositionTarget{
				StageArn: *stage, DestinationChannelArn: *channel, EncoderConfigurationArn: *encoder, Layout: l}})
		}
		if targets != 1 {
			return fail(errors.New("give exactly one of --webhook, --exec and --start-composition"))
		}
		info, err := c.Create(ctx, r)
		if err != nil {
			return fail(err)
		}
		return printJSON(stdout, info)
	case "list":
		list, err := c.List(ctx)
		if err != nil {
			return fail(err)
		}
		printRules(stdout, list)
		return 0
	case "get":
		n, ok := arg()
		if !ok {
			return 2
		}
		info, err := c.Get(ctx, n)
		if err != nil {
			return fail(err)
		}
		return printJSON(stdout, info)
	case "delete":
		n, ok := arg()
		if !ok {
			return 2
		}
		if err := c.Delete(ctx, n); err != nil {
			return fail(err)
		}
		return 0
	case "dead-letters":
		n := ""
		if len(positional) > 0 {
			n = positional[0]
		}
		dls, err := c.DeadLetters(ctx, n)
		if err != nil {
			return fail(err)
		}
		return printJSON(stdout, map[string]any{"dead_letters": dls})
	}
	fmt.Fprintf(stderr, "stagecast rules: unknown subcommand %q\n\n%s", cmd, rulesUsage)
	return 2
}

// randomSecret returns 32 base62 characters (190 bits), without modulo
// bias: bytes >= 248 (4*62) are drawn again.
func randomSecret() string {
	out := make([]byte, 0, 32)
	var buf [64]byte
	for len(out) < cap(out) {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if c < 248 && len(out) < cap(out) {
				out = append(out, auth.Base62[c%62])
			}
		}
	}
	return string(out)
}

func rulesClient(dataDir, endpoint string) (*admin.Client, error) {
	p, err := awscmd.ReadProfile(awscmd.ProfilePath(dataDir))
	if err != nil && (endpoint == "" || os.Getenv("AWS_ACCESS_KEY_ID") == "") {
		return nil, fmt.Errorf("no server profile in %s (start `stagecast serve` or pass --endpoint-url with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): %w", dataDir, err)
	}
	c := &admin.Client{Endpoint: p.EndpointURL, Region: p.Region, AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey}
	if endpoint != "" {
		c.Endpoint = endpoint
	}
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		c.AccessKeyID, c.SecretAccessKey = id, os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if r := os.Getenv("AWS_REGION"); r != "" {
		c.Region = r
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	return c, nil
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // commands hold '>' and '&
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

func printRules(w io.Writer, list []admin.RuleInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tORIGIN\tENABLED\tTARGETS\tDELIVERED\tFAILED\tDEAD LETTERS\tPENDING\tLAST ERROR")
	for _, r := range list {
		var types []string
		var delivered, failed, dead int64
		lastErr, lastAt := "", time.Time{}
		for i, t := range r.Rule.Targets {
			types = append(types, t.Type)
			if i < len(r.Stats.Targets) {
				s := r.Stats.Targets[i]
				delivered += s.Delivered
				failed += s.Failed
				dead += s.DeadLettered
				if s.LastError != "" && s.LastFailure.After(lastAt) {
					lastErr, lastAt = s.LastError, s.LastFailure
				}
			}
		}
		if len(lastErr) > 60 {
			lastErr = lastErr[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Rule.Name, r.Rule.Origin, r.Rule.Enabled,
			strings.Join(types, ","), delivered, failed, dead, r.Stats.Pending, lastErr)
	}
	_ = tw.Flush()
}
