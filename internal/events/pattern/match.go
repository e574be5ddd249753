package pattern

import (
	"encoding/json"
	"strings"
)

// Match reports whether event matches. event is a decoded JSON document as
// encoding/json produces it (map[string]any, []any, string, float64 or
// json.Number, bool, nil).
func (p *Pattern) Match(event any) bool {
	obj, _ := event.(map[string]any)
	return p.root.match(obj)
}

// MatchJSON decodes a JSON event and matches it; invalid JSON never matches.
func (p *Pattern) MatchJSON(event []byte) bool {
	var v any
	if err := json.Unmarshal(event, &v); err != nil {
		return false
	}
	return p.Match(v)
}

func (n *node) match(obj map[string]any) bool {
	for i := range n.fields {
		f := &n.fields[i]
		v, present := obj[f.name]
		if f.sub != nil {
			if !f.sub.matchValue(v, present) {
				return false
			}
			continue
		}
		if !f.matchLeaf(v, present) {
			return false
		}
	}
	if len(n.ors) == 0 {
		return true
	}
	for _, o := range n.ors {
		if o.match(obj) {
			return true
		}
	}
	return false
}

// matchValue matches a nested pattern against an event value: an object,
// an array of objects (any element), or anything else (treated as an
// object with no fields, so only exists:false conditions can match).
func (n *node) matchValue(v any, present bool) bool {
	switch v := v.(type) {
	case map[string]any:
		return n.match(v)
	case []any:
		for _, e := range v {
			if o, ok := e.(map[string]any); ok && n.match(o) {
				return true
			}
		}
	}
	return n.match(nil)
}

func (f *field) matchLeaf(v any, present bool) bool {
	for i := range f.conds {
		c := &f.conds[i]
		if c.kind == kExists {
			if c.exists == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if c.matchScalar(e) {
					return true
				}
			}
			continue
		}
		if c.matchScalar(v) {
			return true
		}
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

func (c *cond) matchScalar(v any) bool {
	switch c.kind {
	case kExact:
		switch c.vtype {
		case vString:
			s, ok := v.(string)
			return ok && s == c.str
		case vNumber:
			f, ok := toFloat(v)
			return ok && f == c.num
		case vBool:
			b, ok := v.(bool)
			return ok && (b == (c.str == "true"))
		case vNull:
			return v == nil
		}
	case kPrefix:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, c.str)
	case kSuffix:
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, c.str)
	case kPrefixFold:
		s, ok := v.(string)
		return ok && strings.HasPrefix(strings.ToLower(s), c.str)
	case kSuffixFold:
		s, ok := v.(string)
		return ok && strings.HasSuffix(strings.ToLower(s), c.str)
	case kFold:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, c.str)
	case kWildcard:
		s, ok := v.(string)
		return ok && wildMatch(c.str, s)
	case kNumeric:
		f, ok := toFloat(v)
		if !ok {
			return false
		}
		if c.hasLo && (f < c.lo || (f == c.lo && !c.loIncl)) {
			return false
		}
		if c.hasHi && (f > c.hi || (f == c.hi && !c.hiIncl)) {
			return false
		}
		return true
	case kAnythingBut:
		for i := range c.but {
			if c.but[i].matchScalar(v) {
				return false
			}
		}
		return true
	}
	return false
}

// wildMatch matches s against a wildcard pattern where '*' matches any
// run of bytes and "\*", "\\" are literals. It backtracks only to the most
// recent star, so it runs in O(len(s) * stars).
func wildMatch(pat, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pat) {
			switch c := pat[p]; {
			case c == '*':
				starP, starI = p, i
				p++
				continue
			case c == '\\' && p+1 < len(pat):
				if pat[p+1] == s[i] {
					p, i = p+2, i+1
					continue
				}
			case c == s[i]:
				p, i = p+1, i+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}
