package awscmd

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// maxSkeletonDepth stops --generate-cli-skeleton on recursive shapes.
const maxSkeletonDepth = 8

// coercer types untyped values (decoded JSON, or shorthand strings) against
// the model, producing the wire JSON tree: string, int64, float64, bool,
// []any and map[string]any keyed by wire member names.
type coercer struct {
	m *awsmodel.Model
}

// decodeJSON parses s keeping numbers exact.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: trailing data after the value")
	}
	return v, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

func typeErr(path, want string, v any) error {
	return fmt.Errorf("invalid value for parameter %s: expected %s, got %s", path, want, describe(v))
}

// value types v against shape; a nil result with nil error means "absent"
// (JSON null).
func (c *coercer) value(shapeName, path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := c.m.Shapes[shapeName]
	switch s.Type {
	case "string", "timestamp":
		switch x := v.(type) {
		case string:
			return x, nil
		case []any: // a shorthand csv-list given to a scalar: the commas were data
			parts := make([]string, 0, len(x))
			for _, e := range x {
				str, ok := e.(string)
				if !ok {
					return nil, typeErr(path, "a string", v)
				}
				parts = append(parts, str)
			}
			return strings.Join(parts, ","), nil
		}
		return nil, typeErr(path, "a string", v)
	case "integer", "long":
		var text string
		switch x := v.(type) {
		case string:
			text = strings.TrimSpace(x)
		case json.Number:
			text = x.String()
		default:
			return nil, typeErr(path, "an integer", v)
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(text, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt64 {
				return nil, typeErr(path, "an integer", v)
			}
			n = int64(f)
		}
		if s.Type == "integer" && (n > math.MaxInt32 || n < math.MinInt32) {
			return nil, fmt.Errorf("invalid value for parameter %s: %d is out of range for an integer", path, n)
		}
		return n, nil
	case "float", "double":
		var text string
		switch x := v.(type) {
		case string:
			text = strings.TrimSpace(x)
		case json.Number:
			text = x.String()
		default:
			return nil, typeErr(path, "a number", v)
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, typeErr(path, "a number", v)
		}
		return f, nil
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, typeErr(path, "true or false", v)
	case "list":
		items, ok := v.([]any)
		if !ok {
			items = []any{v}
		}
		out := make([]any, 0, len(items))
		for i, e := range items {
			tv, err := c.value(s.Member.Shape, fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			if tv != nil {
				out = append(out, tv)
			}
		}
		return out, nil
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, typeErr(path, "a map (k=v,... or a JSON object)", v)
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			tv, err := c.value(s.Value.Shape, path+"."+k, e)
			if err != nil {
				return nil, err
			}
			if tv != nil {
				out[k] = tv
			}
		}
		return out, nil
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, typeErr(path, "a structure (k=v,... or a JSON object)", v)
		}
		out, err := c.members(s, path, obj)
		if err != nil {
			return nil, err
		}
		for _, r := range s.Required {
			if _, ok := out[r]; !ok {
				return nil, fmt.Errorf("missing required parameter in %s: %q", path, r)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("parameter %s has unsupported type %s", path, s.Type)
}

// members types the members of a structure value, matching keys to member
// names exactly or, failing that, case-insensitively.
func (c *coercer) members(s *awsmodel.Shape, path string, obj map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(obj))
	for k, e := range obj {
		name := memberName(s, k)
		if name == "" {
			return nil, fmt.Errorf("unknown parameter %q in %s, must be one of: %s", k, path, strings.Join(s.MemberNames(), ", "))
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		tv, err := c.value(s.Members[name].Shape, sub, e)
		if err != nil {
			return nil, err
		}
		if tv != nil {
			out[name] = tv
		}
	}
	return out, nil
}

func memberName(s *awsmodel.Shape, key string) string {
	if _, ok := s.Members[key]; ok {
		return key
	}
	for _, n := range s.MemberNames() {
		if strings.EqualFold(n, key) {
			return n
		}
	}
	return ""
}

// skeleton returns the --generate-cli-skeleton template of a shape.
func (c *coercer) skeleton(shapeName string, depth int) any {
	s := c.m.Shapes[shapeName]
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			return s.Enum[0]
		}
		return ""
	case "timestamp":
		return "1970-01-01T00:00:00"
	case "integer", "long":
		return 0
	case "float", "double":
		return 0.0
	case "boolean":
		return true
	case "list":
		if depth >= maxSkeletonDepth {
			return []any{}
		}
		return []any{c.skeleton(s.Member.Shape, depth+1)}
	case "map":
		if depth >= maxSkeletonDepth {
			return map[string]any{}
		}
		return map[string]any{"KeyName": c.skeleton(s.Value.Shape, depth+1)}
	case "structure":
		out := map[string]any{}
		if depth >= maxSkeletonDepth {
			return out
		}
		for name, mem := range s.Members {
			out[name] = c.skeleton(mem.Shape, depth+1)
		}
		return out
	}
	return nil
}

// typeName describes a shape for help output.
func typeName(m *awsmodel.Model, shapeName string) string {
	s := m.Shapes[shapeName]
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			enum := append([]string(nil), s.Enum...)
			sort.Strings(enum)
			return "string, one of " + strings.Join(enum, "|")
		}
		return "string"
	case "list":
		return "list of " + typeName(m, s.Member.Shape)
	case "map":
		return "map " + typeName(m, s.Key.Shape) + " -> " + typeName(m, s.Value.Shape)
	}
	return s.Type
}
