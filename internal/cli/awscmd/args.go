package awscmd

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// maxParamFileSize bounds file:// parameter values and --cli-input-json
// documents; IVS inputs are a few kilobytes at most.
const maxParamFileSize = 10 << 20

// argKind says how many command-line words a flag takes.
type argKind int

const (
	kindScalar      argKind = iota // exactly one word
	kindBool                       // no word: --flag / --no-flag
	kindList                       // one or more words
	kindObject                     // one word: shorthand or JSON
	kindSkeletonArg                // --generate-cli-skeleton: an optional word
)

// flagSpec is one operation flag derived from an input member.
type flagSpec struct {
	flag     string // without the leading "--"
	member   string // wire member name
	shape    string
	kind     argKind
	required bool
}

// opSpec is the command-line view of one operation.
type opSpec struct {
	service string
	name    string
	kebab   string
	op      awsmodel.Operation
	input   *awsmodel.Shape // nil when the operation takes no input
	flags   []*flagSpec     // sorted by flag
	byFlag  map[string]*flagSpec
	pager   *awsmodel.Paginator
}

// Special per-operation flags, next to the member flags.
const (
	flagInputJSON     = "cli-input-json"
	flagSkeleton      = "generate-cli-skeleton"
	flagMaxItems      = "max-items"
	flagStartingToken = "starting-token"
	flagPageSize      = "page-size"
)

func newOpSpec(m *awsmodel.Model, name string) *opSpec {
	op := m.Operations[name]
	spec := &opSpec{service: m.Name, name: name, kebab: awsmodel.Kebab(name), op: op, byFlag: map[string]*flagSpec{}}
	if p, ok := m.Paginators[name]; ok {
		spec.pager = &p
	}
	if op.Input == nil {
		return spec
	}
	spec.input = m.Shapes[op.Input.Shape]
	for _, mn := range spec.input.MemberNames() {
		mem := spec.input.Members[mn]
		f := &flagSpec{flag: awsmodel.Kebab(mn), member: mn, shape: mem.Shape, required: spec.input.IsRequired(mn)}
		switch s := m.Shapes[mem.Shape]; s.Type {
		case "boolean":
			f.kind = kindBool
		case "list":
			f.kind = kindList
		case "map", "structure":
			f.kind = kindObject
		}
		spec.flags = append(spec.flags, f)
		spec.byFlag[f.flag] = f
	}
	sort.Slice(spec.flags, func(i, j int) bool { return spec.flags[i].flag < spec.flags[j].flag })
	return spec
}

// specialFlags lists the non-member flags an operation accepts.
func (o *opSpec) specialFlags() []string {
	out := []string{flagInputJSON, flagSkeleton}
	if o.pager != nil {
		out = append(out, flagMaxItems, flagStartingToken, flagPageSize)
	}
	return out
}

// allFlags lists every flag name the operation accepts, for suggestions.
func (o *opSpec) allFlags() []string {
	out := o.specialFlags()
	for _, f := range o.flags {
		out = append(out, f.flag)
		if f.kind == kindBool {
			out = append(out, "no-"+f.flag)
		}
	}
	return append(out, globalFlagNames()...)
}

// opRequest is a parsed operation invocation.
type opRequest struct {
	input         map[string]any // wire JSON
	skeleton      string         // "", "input" or "output"
	maxItems      int
	startingToken string
	pageSize      int
	userPaging    bool // the input token or limit key was given explicitly
}

// rawFlag is one flag occurrence with its words.
type rawFlag struct {
	name   string
	values []string
}

// splitFlags groups operation words into flags and their values.
func (o *opSpec) splitFlags(tokens []string) ([]rawFlag, error) {
	var out []rawFlag
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		if !strings.HasPrefix(tok, "--") || len(tok) == 2 {
			return nil, usageError{fmt.Sprintf("unexpected argument %q", tok)}
		}
		name, inline, hasInline := strings.Cut(tok[2:], "=")
		kind, ok := o.flagKind(name)
		if !ok {
			return nil, usageError{unknownFlagMsg(o, name)}
		}
		rf := rawFlag{name: name}
		if hasInline {
			rf.values = append(rf.values, inline)
		}
		switch kind {
		case kindBool:
			// Takes no word; --flag=false is accepted too.
		case kindList:
			for i+1 < len(tokens) && !strings.HasPrefix(tokens[i+1], "--") {
				i++
				rf.values = append(rf.values, tokens[i])
			}
			if len(rf.values) == 0 {
				return nil, usageError{fmt.Sprintf("argument --%s: expected at least one argument", name)}
			}
		case kindSkeletonArg:
			if !hasInline && i+1 < len(tokens) && !strings.HasPrefix(tokens[i+1], "--") {
				i++
				rf.values = append(rf.values, tokens[i])
			}
		default:
			if !hasInline {
				if i+1 >= len(tokens) || strings.HasPrefix(tokens[i+1], "--") {
					return nil, usageError{fmt.Sprintf("argument --%s: expected one argument", name)}
				}
				i++
				rf.values = append(rf.values, tokens[i])
			}
		}
		out = append(out, rf)
	}
	return out, nil
}

func (o *opSpec) flagKind(name string) (argKind, bool) {
	if f, ok := o.byFlag[name]; ok {
		return f.kind, true
	}
	if rest, ok := strings.CutPrefix(name, "no-"); ok {
		if f, ok := o.byFlag[rest]; ok && f.kind == kindBool {
			return kindBool, true
		}
	}
	switch name {
	case flagInputJSON:
		return kindScalar, true
	case flagSkeleton:
		return kindSkeletonArg, true
	case flagMaxItems, flagStartingToken, flagPageSize:
		return kindScalar, o.pager != nil
	}
	return 0, false
}

// parse turns operation words into a request.
func (o *opSpec) parse(c *coercer, tokens []string, env Env) (*opRequest, error) {
	raw, err := o.splitFlags(tokens)
	if err != nil {
		return nil, err
	}
	req := &opRequest{input: map[string]any{}}
	// --cli-input-json first: flags override it.
	for _, rf := range raw {
		if rf.name != flagInputJSON {
			continue
		}
		if err := o.applyInputJSON(c, req, rf.values[0], env); err != nil {
			return nil, err
		}
	}
	for _, rf := range raw {
		switch rf.name {
		case flagInputJSON:
			continue
		case flagSkeleton:
			req.skeleton = "input"
			if len(rf.values) > 0 {
				req.skeleton = rf.values[0]
			}
			if req.skeleton != "input" && req.skeleton != "output" {
				return nil, usageError{fmt.Sprintf("argument --%s: invalid choice %q (choose from input, output)", flagSkeleton, req.skeleton)}
			}
			continue
		case flagStartingToken:
			req.startingToken = rf.values[0]
			continue
		case flagMaxItems, flagPageSize:
			n, err := strconv.Atoi(rf.values[0])
			if err != nil || n <= 0 {
				return nil, usageError{fmt.Sprintf("argument --%s: expected a positive integer, got %q", rf.name, rf.values[0])}
			}
			if rf.name == flagMaxItems {
				req.maxItems = n
			} else {
				req.pageSize = n
			}
			continue
		}
		if err := o.applyFlag(c, req, rf, env); err != nil {
			return nil, err
		}
	}
	if o.pager != nil {
		_, tok := req.input[o.pager.InputToken]
		_, lim := req.input[o.pager.LimitKey]
		req.userPaging = tok || lim
	}
	if req.skeleton == "" && o.input != nil {
		var missing []string
		for _, f := range o.flags {
			if _, ok := req.input[f.member]; f.required && !ok {
				missing = append(missing, "--"+f.flag)
			}
		}
		if len(missing) > 0 {
			return nil, usageError{"the following arguments are required: " + strings.Join(missing, ", ")}
		}
	}
	return req, nil
}

func (o *opSpec) applyInputJSON(c *coercer, req *opRequest, value string, env Env) error {
	text, err := readParam(value, env, true)
	if err != nil {
		return usageError{fmt.Sprintf("--%s: %v", flagInputJSON, err)}
	}
	v, err := decodeJSON(text)
	if err != nil {
		return usageError{fmt.Sprintf("--%s: %v", flagInputJSON, err)}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return usageError{fmt.Sprintf("--%s: expected a JSON object", flagInputJSON)}
	}
	if o.input == nil {
		if len(obj) > 0 {
			return usageError{fmt.Sprintf("--%s: %s takes no input", flagInputJSON, o.kebab)}
		}
		return nil
	}
	in, err := c.members(o.input, "", obj)
	if err != nil {
		return usageError{fmt.Sprintf("--%s: %v", flagInputJSON, err)}
	}
	for k, v := range in {
		req.input[k] = v
	}
	return nil
}

func (o *opSpec) applyFlag(c *coercer, req *opRequest, rf rawFlag, env Env) error {
	f, ok := o.byFlag[rf.name]
	if !ok { // --no-<bool>
		f = o.byFlag[strings.TrimPrefix(rf.name, "no-")]
		if len(rf.values) > 0 {
			return usageError{fmt.Sprintf("argument --%s: takes no value", rf.name)}
		}
		req.input[f.member] = false
		return nil
	}
	fail := func(err error) error { return usageError{fmt.Sprintf("argument --%s: %v", rf.name, err)} }
	values := make([]string, len(rf.values))
	for i, v := range rf.values {
		text, err := readParam(v, env, false)
		if err != nil {
			return fail(err)
		}
		values[i] = text
	}
	var untyped any
	switch f.kind {
	case kindBool:
		if len(values) == 0 {
			req.input[f.member] = true
			return nil
		}
		untyped = values[0]
	case kindScalar:
		untyped = values[0]
	case kindObject:
		v, err := objectArg(values[0])
		if err != nil {
			return fail(err)
		}
		untyped = v
	case kindList:
		if t := strings.TrimSpace(values[0]); len(values) == 1 && strings.HasPrefix(t, "[") {
			v, err := decodeJSON(t)
			if err != nil {
				return fail(err)
			}
			untyped = v
			break
		}
		elem := c.m.Shapes[c.m.Shapes[f.shape].Member.Shape]
		items := make([]any, 0, len(values))
		for _, v := range values {
			if elem.Type != "structure" && elem.Type != "map" {
				items = append(items, v)
				continue
			}
			item, err := objectArg(v)
			if err != nil {
				return fail(err)
			}
			items = append(items, item)
		}
		untyped = items
	}
	tv, err := c.value(f.shape, f.member, untyped)
	if err != nil {
		return fail(err)
	}
	if tv == nil {
		delete(req.input, f.member)
		return nil
	}
	req.input[f.member] = tv
	return nil
}

// objectArg parses a structure or map argument: JSON when it starts with
// '{', shorthand otherwise.
func objectArg(s string) (any, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		return decodeJSON(t)
	}
	return parseShorthand(s)
}

// readParam resolves file:// and fileb:// values like the AWS CLI does;
// with stdinOK, "-" reads standard input.
func readParam(v string, env Env, stdinOK bool) (string, error) {
	var r io.Reader
	switch {
	case stdinOK && v == "-":
		r = env.Stdin
	case strings.HasPrefix(v, "file://"), strings.HasPrefix(v, "fileb://"):
		path := v[strings.Index(v, "://")+3:]
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("unable to load parameter file: %v", err)
		}
		defer f.Close()
		r = f
	default:
		return v, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, maxParamFileSize+1))
	if err != nil {
		return "", fmt.Errorf("read parameter: %v", err)
	}
	if len(data) > maxParamFileSize {
		return "", fmt.Errorf("parameter file larger than %d bytes", maxParamFileSize)
	}
	return string(data), nil
}
