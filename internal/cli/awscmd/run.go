package awscmd

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// Exit codes, as documented for the AWS CLI.
const (
	exitOK      = 0
	exitUsage   = 252 // the command line could not be parsed or validated
	exitConfig  = 253 // no endpoint, no credentials, unreadable profile
	exitService = 254 // the service answered with an error
	exitConnect = 255 // the request could not be sent, or anything else
)

// defaultTimeout is the AWS CLI's default connect and read timeout.
const defaultTimeout = 60 * time.Second

// Env is the process environment of one invocation.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// Getenv looks up environment variables; nil means none are set.
	Getenv func(string) string
	// DataDir is the default data directory when neither --data-dir nor
	// STAGECAST_DATA_DIR is given; "" means "./data".
	DataDir string
}

func (e Env) normalized() Env {
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	return e
}

// usageError is a command-line problem (exit 252).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// configError is a configuration problem (exit 253).
type configError struct{ msg string }

func (e configError) Error() string { return e.msg }

// globalOpts are the options accepted anywhere on the command line.
type globalOpts struct {
	endpointURL, region, output, profile, dataDir string
	debug, noVerifySSL, noPaginate, help          bool
	readTimeout, connectTimeout                   time.Duration
}

// globalFlags maps each global option to whether it takes a value.
var globalFlags = map[string]bool{
	"endpoint-url":        true,
	"region":              true,
	"output":              true,
	"profile":             true,
	"data-dir":            true,
	"cli-read-timeout":    true,
	"cli-connect-timeout": true,
	"debug":               false,
	"no-verify-ssl":       false,
	"no-paginate":         false,
	"no-cli-pager":        false, // accepted for copy-pasted AWS commands; there is no pager
	"help":                false,
}

func globalFlagNames() []string {
	out := make([]string, 0, len(globalFlags))
	for n := range globalFlags {
		out = append(out, n)
	}
	return out
}

// parseGlobals takes the global options out of args (they may appear
// anywhere) and finds the command; rest holds the operation's words.
func parseGlobals(args []string) (g globalOpts, command string, rest []string, err error) {
	g.readTimeout, g.connectTimeout = defaultTimeout, defaultTimeout
	afterCommand := false
	for i := 0; i < len(args); i++ {
		tok := args[i]
		if tok == "-h" {
			g.help = true
			continue
		}
		if !strings.HasPrefix(tok, "--") || len(tok) == 2 {
			switch {
			case command == "" && tok == "help":
				g.help = true
			case command == "":
				command, afterCommand = tok, true
				continue
			case afterCommand && tok == "help":
				g.help = true
			default:
				rest = append(rest, tok)
			}
			afterCommand = false
			continue
		}
		afterCommand = false
		name, inline, hasInline := strings.Cut(tok[2:], "=")
		if name == "query" {
			return g, "", nil, usageError{"--query is not supported; pipe the JSON output to a tool such as jq"}
		}
		takesValue, global := globalFlags[name]
		if !global {
			if command == "" {
				return g, "", nil, usageError{fmt.Sprintf("unknown option --%s before the command", name)}
			}
			rest = append(rest, tok)
			continue
		}
		value := inline
		if takesValue && !hasInline {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return g, "", nil, usageError{fmt.Sprintf("argument --%s: expected one argument", name)}
			}
			i++
			value = args[i]
		}
		if !takesValue && hasInline {
			return g, "", nil, usageError{fmt.Sprintf("argument --%s: takes no value", name)}
		}
		if err := g.set(name, value); err != nil {
			return g, "", nil, err
		}
	}
	return g, command, rest, nil
}

func (g *globalOpts) set(name, value string) error {
	switch name {
	case "endpoint-url":
		g.endpointURL = value
	case "region":
		g.region = value
	case "output":
		if value != "json" {
			return usageError{fmt.Sprintf("--output %s is not supported: only json output is available", value)}
		}
		g.output = value
	case "profile":
		g.profile = value
	case "data-dir":
		g.dataDir = value
	case "cli-read-timeout", "cli-connect-timeout":
		secs, err := strconv.ParseFloat(value, 64)
		if err != nil || secs < 0 {
			return usageError{fmt.Sprintf("argument --%s: expected a number of seconds, got %q", name, value)}
		}
		d := time.Duration(secs * float64(time.Second)) // 0 means no timeout, like the AWS CLI
		if name == "cli-read-timeout" {
			g.readTimeout = d
		} else {
			g.connectTimeout = d
		}
	case "debug":
		g.debug = true
	case "no-verify-ssl":
		g.noVerifySSL = true
	case "no-paginate":
		g.noPaginate = true
	case "help":
		g.help = true
	}
	return nil
}

// Run executes `stagecast <service> <args...>` and returns the process exit
// code. service is "ivs" or "ivs-realtime"; args are the words after it.
func Run(ctx context.Context, service string, args []string, env Env) int {
	env = env.normalized()
	prefix := "stagecast " + service
	sdk, known := sdkServices[service]
	m, err := awsmodel.Load(service)
	if !known || err != nil {
		fmt.Fprintf(env.Stderr, "stagecast: error: unknown service %q (want %s or %s)\n", service, awsmodel.IVS, awsmodel.Realtime)
		return exitUsage
	}
	g, command, rest, err := parseGlobals(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", prefix, err)
		return exitUsage
	}
	if command == "" {
		if g.help {
			printServiceHelp(env.Stdout, m)
			return exitOK
		}
		fmt.Fprintf(env.Stderr, "usage: %s <command> [parameters]\n%s: error: a command is required; run `%s help` for the list\n", prefix, prefix, prefix)
		return exitUsage
	}
	opName, ok := operationByCommand(m, command)
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: error: %s\n", prefix, unknownCommandMsg(m, command))
		return exitUsage
	}
	spec := newOpSpec(m, opName)
	prefix += " " + spec.kebab
	if g.help {
		printOpHelp(env.Stdout, m, spec)
		return exitOK
	}
	c := &coercer{m: m}
	req, err := spec.parse(c, rest, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", prefix, err)
		return exitUsage
	}
	if req.skeleton != "" {
		return printSkeleton(env, c, spec, req.skeleton)
	}
	if err := sdk.checkSupport(m, spec, req.input); err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", prefix, err)
		return exitUsage
	}

	r := &resolver{service: service, g: g, env: env}
	s, err := r.resolve(ctx)
	if err != nil {
		return reportSetupError(env.Stderr, prefix, err)
	}
	cfg, release, err := newAWSConfig(s, g, env)
	if err != nil {
		return reportSetupError(env.Stderr, prefix, err)
	}
	defer release()
	if g.debug {
		fmt.Fprintf(env.Stderr, "debug: endpoint %s (from %s), region %s (from %s), credentials from %s\n",
			s.endpoint, s.endpointSrc, s.region, s.regionSrc, s.credsSrc)
	}
	call := &caller{m: m, client: reflect.ValueOf(sdk.newClient(cfg, s.endpoint))}
	var out map[string]any
	if spec.pager != nil && !g.noPaginate && !req.userPaging {
		out, err = paginate(ctx, call, spec, req)
	} else {
		out, err = call.call(ctx, spec, req.input)
	}
	if err != nil {
		return classifyCallError(env.Stderr, prefix, opName, s.endpoint, err)
	}
	if len(out) == 0 { // the AWS CLI prints nothing for an empty response
		return exitOK
	}
	if err := printJSON(env.Stdout, out); err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", prefix, err)
		return exitConnect
	}
	return exitOK
}

func reportSetupError(w io.Writer, prefix string, err error) int {
	fmt.Fprintf(w, "%s: error: %v\n", prefix, err)
	if _, ok := err.(usageError); ok {
		return exitUsage
	}
	return exitConfig
}

func printSkeleton(env Env, c *coercer, spec *opSpec, which string) int {
	var sk any = map[string]any{}
	if which == "input" && spec.op.Input != nil {
		sk = c.skeleton(spec.op.Input.Shape, 0)
	}
	if which == "output" && spec.op.Output != nil {
		sk = c.skeleton(spec.op.Output.Shape, 0)
	}
	if err := printJSON(env.Stdout, sk); err != nil {
		return exitConnect
	}
	return exitOK
}

// operationByCommand maps a kebab-case command to its operation name.
func operationByCommand(m *awsmodel.Model, command string) (string, bool) {
	for name := range m.Operations {
		if awsmodel.Kebab(name) == command {
			return name, true
		}
	}
	return "", false
}
