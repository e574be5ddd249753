package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Limits on what Compile accepts. EventBridge caps a rule's pattern at a few
// KiB; these limits are generous for hand-written rules and keep a hostile
// pattern from costing more than a few microseconds per event.
const (
	// MaxPatternBytes is the largest pattern document accepted.
	MaxPatternBytes = 16 << 10
	// MaxDepth is the deepest nesting of objects (and $or) in a pattern.
	MaxDepth = 16
	// MaxConditions is the total number of conditions across all fields.
	MaxConditions = 1024
	// MaxOperandBytes is the longest string operand (value, prefix...).
	MaxOperandBytes = 4096
	// MaxWildcardStars is the most '*' one wildcard operand may hold; the
	// matcher is O(len(value) * stars) in the worst case.
	MaxWildcardStars = 16
)

// ErrInvalid wraps every Compile failure.
var ErrInvalid = errors.New("invalid event pattern")

// Pattern is a compiled event pattern.
type Pattern struct {
	root *node
}

type node struct {
	fields []field
	ors    []*node // "$or": the node also needs one of these to match
}

type field struct {
	name  string
	sub   *node  // nested object pattern
	conds []cond // leaf conditions (OR)
}

type kind uint8

const (
	kExact kind = iota + 1
	kPrefix
	kSuffix
	kPrefixFold
	kSuffixFold
	kFold
	kWildcard
	kAnythingBut
	kNumeric
	kExists
)

type cond struct {
	kind  kind
	str   string  // string operand (exact strings, prefix, suffix, folded operands, wildcard)
	num   float64 // exact numbers
	vtype vtype   // type of an exact operand
	// numeric range
	lo, hi         float64
	hasLo, hasHi   bool
	loIncl, hiIncl bool
	exists         bool
	but            []cond // anything-but: inner conditions, none may match
}

type vtype uint8

const (
	vString vtype = iota + 1
	vNumber
	vBool
	vNull
)

type compiler struct {
	conds int
}

// Compile parses and validates a pattern document.
func Compile(raw []byte) (*Pattern, error) {
	if len(raw) > MaxPatternBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrInvalid, len(raw), MaxPatternBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the pattern object", ErrInvalid)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a pattern must be a JSON object", ErrInvalid)
	}
	c := &compiler{}
	root, err := c.object(obj, "", 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(root.fields) == 0 && len(root.ors) == 0 {
		return nil, fmt.Errorf("%w: a pattern must name at least one field", ErrInvalid)
	}
	return &Pattern{root: root}, nil
}

// MustCompile is Compile for patterns known to be valid (tests, constants).
func MustCompile(raw string) *Pattern {
	p, err := Compile([]byte(raw))
	if err != nil {
		panic(err)
	}
	return p
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (c *compiler) object(obj map[string]any, path string, depth int) (*node, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: nesting deeper than %d levels", path, MaxDepth)
	}
	n := &node{}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		v := obj[name]
		p := join(path, name)
		if name == "$or" {
			arr, ok := v.([]any)
			if !ok || len(arr) < 2 {
				return nil, fmt.Errorf("%s: must be an array of at least two patterns", p)
			}
			for i, e := range arr {
				o, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s[%d]: must be an object", p, i)
				}
				sub, err := c.object(o, path, depth+1)
				if err != nil {
					return nil, err
				}
				if len(sub.fields) == 0 && len(sub.ors) == 0 {
					return nil, fmt.Errorf("%s[%d]: must name at least one field", p, i)
				}
				n.ors = append(n.ors, sub)
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			sub, err := c.object(v, p, depth+1)
			if err != nil {
				return nil, err
			}
			if len(sub.fields) == 0 && len(sub.ors) == 0 {
				return nil, fmt.Errorf("%s: an object must name at least one field", p)
			}
			n.fields = append(n.fields, field{name: name, sub: sub})
		case []any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: an empty array matches nothing", p)
			}
			f := field{name: name}
			for i, e := range v {
				cd, err := c.condition(e, fmt.Sprintf("%s[%d]", p, i))
				if err != nil {
					return nil, err
				}
				f.conds = append(f.conds, cd)
			}
			n.fields = append(n.fields, f)
		default:
			return nil, fmt.Errorf("%s: must be an array of values or an object, not %s", p, typeName(v))
		}
	}
	return n, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (c *compiler) count(path string) error {
	c.conds++
	if c.conds > MaxConditions {
		return fmt.Errorf("%s: more than %d conditions", path, MaxConditions)
	}
	return nil
}

func operand(v any, path, op string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s needs a string, not %s", path, op, typeName(v))
	}
	if len(s) > MaxOperandBytes {
		return "", fmt.Errorf("%s: %s operand longer than %d bytes", path, op, MaxOperandBytes)
	}
	return s, nil
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// exact compiles a literal value.
func exact(v any, path string) (cond, error) {
	switch v := v.(type) {
	case string:
		if len(v) > MaxOperandBytes {
			return cond{}, fmt.Errorf("%s: value longer than %d bytes", path, MaxOperandBytes)
		}
		return cond{kind: kExact, vtype: vString, str: v}, nil
	case json.Number:
		f, ok := number(v)
		if !ok {
			return cond{}, fmt.Errorf("%s: %s is not a finite number", path, v)
		}
		return cond{kind: kExact, vtype: vNumber, num: f}, nil
	case bool:
		s := "false"
		if v {
			s = "true"
		}
		return cond{kind: kExact, vtype: vBool, str: s}, nil
	case nil:
		return cond{kind: kExact, vtype: vNull}, nil
	}
	return cond{}, fmt.Errorf("%s: %s is not a value", path, typeName(v))
}

func (c *compiler) condition(v any, path string) (cond, error) {
	if err := c.count(path); err != nil {
		return cond{}, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return exact(v, path)
	}
	if len(obj) != 1 {
		return cond{}, fmt.Errorf("%s: a condition object has exactly one operator, found %d", path, len(obj))
	}
	for op, arg := range obj {
		p := path + "." + op
		switch op {
		case "prefix", "suffix":
			fold := false
			if o, ok := arg.(map[string]any); ok {
				a, ok := o["equals-ignore-case"]
				if !ok || len(o) != 1 {
					return cond{}, fmt.Errorf("%s: only {\"equals-ignore-case\": ...} may nest here", p)
				}
				arg, fold = a, true
			}
			s, err := operand(arg, p, op)
			if err != nil {
				return cond{}, err
			}
			switch {
			case op == "prefix" && fold:
				return cond{kind: kPrefixFold, str: strings.ToLower(s)}, nil
			case op == "prefix":
				return cond{kind: kPrefix, str: s}, nil
			case fold:
				return cond{kind: kSuffixFold, str: strings.ToLower(s)}, nil
			default:
				return cond{kind: kSuffix, str: s}, nil
			}
		case "equals-ignore-case":
			s, err := operand(arg, p, op)
			if err != nil {
				return cond{}, err
			}
			return cond{kind: kFold, str: strings.ToLower(s)}, nil
		case "wildcard":
			return wildcard(arg, p)
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return cond{}, fmt.Errorf("%s: exists needs true or false", p)
			}
			return cond{kind: kExists, exists: b}, nil
		case "numeric":
			return numeric(arg, p)
		case "anything-but":
			return c.anythingBut(arg, p)
		case "cidr":
			return cond{}, fmt.Errorf("%s: the cidr operator is not supported", p)
		default:
			return cond{}, fmt.Errorf("%s: unknown operator %q", path, op)
		}
	}
	panic("unreachable")
}

func wildcard(arg any, p string) (cond, error) {
	s, err := operand(arg, p, "wildcard")
	if err != nil {
		return cond{}, err
	}
	stars := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return cond{}, fmt.Errorf("%s: '\\' must escape '*' or '\\'", p)
			}
			i++
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return cond{}, fmt.Errorf("%s: consecutive '*' are not allowed", p)
			}
			stars++
		}
	}
	if stars > MaxWildcardStars {
		return cond{}, fmt.Errorf("%s: more than %d '*'", p, MaxWildcardStars)
	}
	return cond{kind: kWildcard, str: s}, nil
}

func numeric(arg any, p string) (cond, error) {
	arr, ok := arg.([]any)
	if !ok || len(arr) == 0 || len(arr)%2 != 0 || len(arr) > 4 {
		return cond{}, fmt.Errorf("%s: needs [op, number] or [lower-op, number, upper-op, number]", p)
	}
	cd := cond{kind: kNumeric}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok {
			return cond{}, fmt.Errorf("%s[%d]: operator must be a string", p, i)
		}
		f, ok := number(arr[i+1])
		if !ok {
			return cond{}, fmt.Errorf("%s[%d]: %v is not a finite number", p, i+1, arr[i+1])
		}
		switch op {
		case "=":
			if len(arr) != 2 {
				return cond{}, fmt.Errorf("%s: \"=\" cannot be combined with a range", p)
			}
			cd.lo, cd.hi, cd.hasLo, cd.hasHi, cd.loIncl, cd.hiIncl = f, f, true, true, true, true
		case ">", ">=":
			if cd.hasLo {
				return cond{}, fmt.Errorf("%s: two lower bounds", p)
			}
			cd.lo, cd.hasLo, cd.loIncl = f, true, op == ">="
		case "<", "<=":
			if cd.hasHi {
				return cond{}, fmt.Errorf("%s: two upper bounds", p)
			}
			cd.hi, cd.hasHi, cd.hiIncl = f, true, op == "<="
		default:
			return cond{}, fmt.Errorf("%s[%d]: unknown comparison %q (use =, <, <=, >, >=)", p, i, op)
		}
	}
	if cd.hasLo && cd.hasHi && (cd.lo > cd.hi) {
		return cond{}, fmt.Errorf("%s: lower bound %v is above upper bound %v", p, cd.lo, cd.hi)
	}
	return cd, nil
}

func (c *compiler) anythingBut(arg any, p string) (cond, error) {
	cd := cond{kind: kAnythingBut}
	add := func(v any, path string) error {
		if err := c.count(path); err != nil {
			return err
		}
		in, err := exact(v, path)
		if err != nil {
			return err
		}
		cd.but = append(cd.but, in)
		return nil
	}
	switch a := arg.(type) {
	case []any:
		if len(a) == 0 {
			return cond{}, fmt.Errorf("%s: needs at least one value", p)
		}
		for i, v := range a {
			if _, ok := v.(map[string]any); ok {
				return cond{}, fmt.Errorf("%s[%d]: values only inside an anything-but list", p, i)
			}
			if err := add(v, fmt.Sprintf("%s[%d]", p, i)); err != nil {
				return cond{}, err
			}
		}
	case map[string]any:
		if len(a) != 1 {
			return cond{}, fmt.Errorf("%s: exactly one of prefix, suffix, equals-ignore-case, wildcard", p)
		}
		for op, v := range a {
			q := p + "." + op
			list := []any{v}
			if l, ok := v.([]any); ok && (op == "equals-ignore-case" || op == "wildcard") {
				list = l
			}
			if len(list) == 0 {
				return cond{}, fmt.Errorf("%s: needs at least one value", q)
			}
			for _, v := range list {
				if err := c.count(q); err != nil {
					return cond{}, err
				}
				var in cond
				var err error
				switch op {
				case "prefix", "suffix", "equals-ignore-case":
					var s string
					if s, err = operand(v, q, op); err == nil {
						in = map[string]cond{
							"prefix":             {kind: kPrefix, str: s},
							"suffix":             {kind: kSuffix, str: s},
							"equals-ignore-case": {kind: kFold, str: strings.ToLower(s)},
						}[op]
					}
				case "wildcard":
					in, err = wildcard(v, q)
				default:
					err = fmt.Errorf("%s: anything-but takes prefix, suffix, equals-ignore-case or wildcard", q)
				}
				if err != nil {
					return cond{}, err
				}
				cd.but = append(cd.but, in)
			}
		}
	default:
		if err := add(arg, p); err != nil {
			return cond{}, err
		}
	}
	return cd, nil
}
