package bidi

import (
	"encoding/json"
	"fmt"
)

// maxRemoteDepth bounds the nesting DecodeRemoteValue follows.
const maxRemoteDepth = 64

// DecodeRemoteValue decodes a serialized BiDi remote value (the result of
// script.evaluate) into out the way json.Unmarshal would decode the
// equivalent JSON: undefined and null become null, numbers stay exact
// (bigint too), arrays and sets become arrays, objects and maps become
// objects (keys that are not strings or numbers are an error), a date
// becomes its ISO string and a regexp "/pattern/flags". Values JSON cannot
// carry (NaN, infinities, nodes, functions, promises, windows...) and
// values the browser did not serialize (too deep, or seen before) are an
// error.
func DecodeRemoteValue(raw json.RawMessage, out any) error {
	v, err := remoteToGo(raw, 0)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("re-encode remote value: %w", err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode remote value %.200s: %w", data, err)
	}
	return nil
}

type remoteValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func remoteToGo(raw json.RawMessage, depth int) (any, error) {
	if depth > maxRemoteDepth {
		return nil, fmt.Errorf("remote value nested deeper than %d", maxRemoteDepth)
	}
	var rv remoteValue
	if err := json.Unmarshal(raw, &rv); err != nil {
		return nil, fmt.Errorf("not a remote value: %w", err)
	}
	switch rv.Type {
	case "undefined", "null":
		return nil, nil
	case "string", "date":
		var s string
		if err := json.Unmarshal(rv.Value, &s); err != nil {
			return nil, fmt.Errorf("%s value: %w", rv.Type, err)
		}
		return s, nil
	case "boolean":
		var b bool
		if err := json.Unmarshal(rv.Value, &b); err != nil {
			return nil, fmt.Errorf("boolean value: %w", err)
		}
		return b, nil
	case "number":
		var special string
		if json.Unmarshal(rv.Value, &special) == nil {
			if special == "-0" {
				return json.Number("0"), nil
			}
			return nil, fmt.Errorf("number %s has no JSON form", special)
		}
		var n json.Number
		if err := json.Unmarshal(rv.Value, &n); err != nil {
			return nil, fmt.Errorf("number value: %w", err)
		}
		return n, nil
	case "bigint":
		var s string
		if err := json.Unmarshal(rv.Value, &s); err != nil {
			return nil, fmt.Errorf("bigint value: %w", err)
		}
		n := json.Number(s)
		if _, err := json.Marshal(n); err != nil {
			return nil, fmt.Errorf("bigint %q: %w", s, err)
		}
		return n, nil
	case "regexp":
		var re struct {
			Pattern string `json:"pattern"`
			Flags   string `json:"flags"`
		}
		if err := json.Unmarshal(rv.Value, &re); err != nil {
			return nil, fmt.Errorf("regexp value: %w", err)
		}
		return "/" + re.Pattern + "/" + re.Flags, nil
	case "array", "set":
		var items []json.RawMessage
		if err := decodeContainer(rv, &items); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			v, err := remoteToGo(it, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "object", "map":
		var pairs [][2]json.RawMessage
		if err := decodeContainer(rv, &pairs); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(pairs))
		for _, p := range pairs {
			k, err := remoteKey(p[0], depth+1)
			if err != nil {
				return nil, err
			}
			v, err := remoteToGo(p[1], depth+1)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	case "":
		return nil, fmt.Errorf("remote value without a type: %.200s", raw)
	default:
		return nil, fmt.Errorf("cannot decode a %s (return something JSON can carry)", rv.Type)
	}
}

// decodeContainer decodes an array's or object's value; an absent value
// means the browser did not serialize it.
func decodeContainer(rv remoteValue, into any) error {
	if len(rv.Value) == 0 || string(rv.Value) == "null" {
		return fmt.Errorf("%s not serialized (nested too deep or a repeated reference)", rv.Type)
	}
	if err := json.Unmarshal(rv.Value, into); err != nil {
		return fmt.Errorf("%s value: %w", rv.Type, err)
	}
	return nil
}

// remoteKey is an object's key (a plain string) or a map's (a remote
// value; strings and numbers are accepted).
func remoteKey(raw json.RawMessage, depth int) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	v, err := remoteToGo(raw, depth)
	if err != nil {
		return "", fmt.Errorf("map key: %w", err)
	}
	switch k := v.(type) {
	case string:
		return k, nil
	case json.Number:
		return k.String(), nil
	default:
		return "", fmt.Errorf("map key %.100s is not a string or a number", raw)
	}
}
