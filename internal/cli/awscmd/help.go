package awscmd

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// globalHelp documents the global options, in display order.
var globalHelp = [][2]string{
	{"--endpoint-url URL", "server URL (default: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile)"},
	{"--region REGION", "signing region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1)"},
	{"--profile NAME", "use the named profile of the shared AWS config and credentials files"},
	{"--data-dir DIR", "Stagecast data directory holding profile.json (default: STAGECAST_DATA_DIR, ./data)"},
	{"--output json", "output format; only json is supported"},
	{"--no-paginate", "make a single call instead of following nextToken"},
	{"--debug", "print the resolved configuration and each HTTP exchange to stderr"},
	{"--no-verify-ssl", "do not verify TLS certificates"},
	{"--cli-read-timeout SECONDS", "response timeout, 0 for none (default 60)"},
	{"--cli-connect-timeout SECONDS", "connect timeout, 0 for none (default 60)"},
}

func printGlobalHelp(w io.Writer) {
	fmt.Fprintln(w, "Global options:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range globalHelp {
		fmt.Fprintf(tw, "  %s\t%s\n", h[0], h[1])
	}
	_ = tw.Flush()
}

// printServiceHelp lists every operation of the model as a command.
func printServiceHelp(w io.Writer, m *awsmodel.Model) {
	fmt.Fprintf(w, "usage: stagecast %s <command> [parameters] [global options]\n\n", m.Name)
	fmt.Fprintf(w, "Commands mirror `aws %s`: same names, parameters and JSON output.\n\n", m.Name)
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range m.OperationNames() {
		doc := firstSentence(m.Operations[name].Documentation)
		if !sdkServices[m.Name].hasOperation(name) {
			doc = "[not in the bundled SDK] " + doc
		}
		fmt.Fprintf(tw, "  %s\t%s\n", awsmodel.Kebab(name), doc)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	printGlobalHelp(w)
	fmt.Fprintf(w, "\nRun `stagecast %s <command> help` for a command's parameters.\n", m.Name)
}

// printOpHelp lists an operation's parameters.
func printOpHelp(w io.Writer, m *awsmodel.Model, spec *opSpec) {
	fmt.Fprintf(w, "usage: stagecast %s %s [parameters] [global options]\n\n", m.Name, spec.kebab)
	if doc := firstSentence(spec.op.Documentation); doc != "" {
		fmt.Fprintf(w, "%s\n\n", doc)
	}
	fmt.Fprintln(w, "Parameters:")
	if len(spec.flags) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, f := range spec.flags {
		usage := "--" + f.flag + " <value>"
		switch f.kind {
		case kindBool:
			usage = "--" + f.flag + " | --no-" + f.flag
		case kindList:
			usage = "--" + f.flag + " <value> [<value> ...]"
		}
		req := "optional"
		if f.required {
			req = "required"
		}
		fmt.Fprintf(w, "  %s  (%s, %s)\n", usage, flagType(m, f), req)
		if doc := firstSentence(spec.input.Members[f.member].Documentation); doc != "" {
			fmt.Fprintf(w, "      %s\n", doc)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  --cli-input-json <value>  (JSON or file://path, optional)")
	fmt.Fprintln(w, "      The whole input as a JSON object with wire member names; flags override it.")
	fmt.Fprintln(w, "  --generate-cli-skeleton [input|output]  (optional)")
	fmt.Fprintln(w, "      Print a JSON template of the input (or output) and exit without calling the service.")
	if spec.pager != nil {
		fmt.Fprintf(w, "\nPagination (results in %q are merged across pages):\n", spec.pager.ResultKey)
		fmt.Fprintln(w, "  --max-items <n>          print at most n items, then a NextToken")
		fmt.Fprintln(w, "  --starting-token <token> resume from a NextToken")
		fmt.Fprintf(w, "  --page-size <n>          items per call (%s)\n", spec.pager.LimitKey)
	}
	fmt.Fprintln(w)
	printGlobalHelp(w)
}

func flagType(m *awsmodel.Model, f *flagSpec) string {
	s := m.Shapes[f.shape]
	switch s.Type {
	case "structure":
		return "structure: shorthand k=v,... or JSON"
	case "map":
		return "map: shorthand k=v,... or JSON"
	case "list":
		if e := m.Shapes[s.Member.Shape]; e.Type == "structure" {
			return "list of structures: JSON array or shorthand items"
		}
	}
	return typeName(m, f.shape)
}

// firstSentence turns botocore HTML documentation into its first sentence.
func firstSentence(doc string) string {
	var b strings.Builder
	inTag := false
	for _, r := range doc {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	text := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	text = strings.ReplaceAll(text, " .", ".")
	text = strings.ReplaceAll(text, " ,", ",")
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i+1]
	}
	return text
}

// suggest returns the candidates closest to word, best first.
func suggest(word string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	var hits []scored
	limit := max(2, len(word)/3)
	for _, c := range candidates {
		d := levenshtein(word, c)
		if d <= limit || (len(word) >= 4 && (strings.Contains(c, word) || strings.Contains(word, c))) {
			hits = append(hits, scored{c, d})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].s < hits[j].s
	})
	var out []string
	for i := 0; i < len(hits) && i < 3 && hits[i].d <= hits[0].d+1; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func quoteAll(prefix string, words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", prefix+w)
	}
	return strings.Join(q, " or ")
}

func unknownCommandMsg(m *awsmodel.Model, command string) string {
	var cmds []string
	for _, n := range m.OperationNames() {
		cmds = append(cmds, awsmodel.Kebab(n))
	}
	msg := fmt.Sprintf("unknown command %q", command)
	for _, other := range []string{awsmodel.IVS, awsmodel.Realtime} {
		if om, err := awsmodel.Load(other); other != m.Name && err == nil {
			if _, ok := operationByCommand(om, command); ok {
				return msg + fmt.Sprintf("; it is an %s command: run `stagecast %s %s`", other, other, command)
			}
		}
	}
	if s := suggest(command, cmds); len(s) > 0 {
		msg += "; did you mean " + quoteAll("", s) + "?"
	}
	return msg + fmt.Sprintf(" (run `stagecast %s help` for the list)", m.Name)
}

func unknownFlagMsg(o *opSpec, name string) string {
	msg := fmt.Sprintf("unknown option --%s", name)
	if s := suggest(name, o.allFlags()); len(s) > 0 {
		msg += "; did you mean " + quoteAll("--", s) + "?"
	}
	return msg + fmt.Sprintf(" (run `stagecast %s %s help` for the parameters)", o.service, o.kebab)
}
