package awscmd

import (
	"fmt"
	"strings"
)

// maxShorthandDepth bounds nesting of {...} and [...] in shorthand values;
// the IVS input shapes nest far less deeply, and the bound keeps a
// pathological argument from exhausting the stack.
const maxShorthandDepth = 32

// parseShorthand parses the AWS CLI shorthand syntax into untyped values:
//
//	parameter     = keyval *("," keyval)
//	keyval        = key "=" [values]
//	values        = csv-list / explicit-list / hash-literal
//	csv-list      = value *("," value)      ; a value that is not "key="
//	explicit-list = "[" [item *("," item)] "]"
//	hash-literal  = "{" keyval *("," keyval) "}"
//
// Values may be quoted with ' or " and a backslash escapes the next
// character. Leaves are strings; typing happens later against the model.
func parseShorthand(s string) (map[string]any, error) {
	p := &shParser{s: s}
	m, err := p.keyvals(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", p.s[p.i])
	}
	return m, nil
}

type shParser struct {
	s     string
	i     int
	depth int
}

func (p *shParser) eof() bool { return p.i >= len(p.s) }

func (p *shParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *shParser) skipSpace() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *shParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid shorthand at position %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *shParser) enter() error {
	p.depth++
	if p.depth > maxShorthandDepth {
		return p.errorf("nested deeper than %d levels", maxShorthandDepth)
	}
	return nil
}

// keyvals parses keyval *("," keyval) up to closer (0 at top level); the
// closer itself is left for the caller.
func (p *shParser) keyvals(closer byte) (map[string]any, error) {
	out := map[string]any{}
	for {
		p.skipSpace()
		if closer != 0 && p.peek() == closer && len(out) == 0 {
			return out, nil
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if p.peek() != '=' {
			return nil, p.errorf("expected '=' after key %q", key)
		}
		p.i++
		val, err := p.value(closer)
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, p.errorf("key %q given twice", key)
		}
		out[key] = val
		p.skipSpace()
		switch {
		case p.eof():
			if closer != 0 {
				return nil, p.errorf("missing %q", closer)
			}
			return out, nil
		case p.peek() == closer:
			return out, nil
		case p.peek() == ',':
			p.i++
		default:
			return nil, p.errorf("unexpected %q", p.peek())
		}
	}
}

func (p *shParser) key() (string, error) {
	start := p.i
	for !p.eof() && !strings.ContainsRune("=,[]{}", rune(p.s[p.i])) {
		p.i++
	}
	key := strings.TrimSpace(p.s[start:p.i])
	if key == "" {
		return "", p.errorf("expected key=value")
	}
	return key, nil
}

// value parses what follows "key=": a list, a hash or a csv-list of scalars
// (one scalar is returned as a string, several as a list).
func (p *shParser) value(closer byte) (any, error) {
	p.skipSpace()
	switch p.peek() {
	case '[':
		return p.list()
	case '{':
		return p.hash()
	}
	first, err := p.scalar(closer)
	if err != nil {
		return nil, err
	}
	values := []any{first}
	for p.peek() == ',' && !p.nextIsKey() {
		p.i++
		p.skipSpace()
		if p.eof() || p.peek() == closer {
			return nil, p.errorf("trailing comma")
		}
		v, err := p.scalar(closer)
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	if len(values) == 1 {
		return first, nil
	}
	return values, nil
}

// nextIsKey reports whether the text after the comma at p.i starts a new
// "key=" pair rather than continuing a csv-list.
func (p *shParser) nextIsKey() bool {
	j := p.i + 1
	for j < len(p.s) && !strings.ContainsRune("=,[]{}'\"", rune(p.s[j])) {
		j++
	}
	return j < len(p.s) && p.s[j] == '=' && strings.TrimSpace(p.s[p.i+1:j]) != ""
}

func (p *shParser) hash() (map[string]any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	m, err := p.keyvals('}')
	if err != nil {
		return nil, err
	}
	if p.peek() != '}' {
		return nil, p.errorf("missing '}'")
	}
	p.i++
	return m, nil
}

func (p *shParser) list() ([]any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '['
	out := []any{}
	p.skipSpace()
	if p.peek() == ']' {
		p.i++
		return out, nil
	}
	for {
		p.skipSpace()
		var (
			v   any
			err error
		)
		switch p.peek() {
		case '{':
			v, err = p.hash()
		case '[':
			v, err = p.list()
		default:
			v, err = p.scalar(']')
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, p.errorf("missing ']'")
		}
	}
}

// scalar reads a quoted or bare value ending at ',' or closer.
func (p *shParser) scalar(closer byte) (string, error) {
	p.skipSpace()
	var b strings.Builder
	if q := p.peek(); q == '"' || q == '\'' {
		p.i++
		for {
			if p.eof() {
				return "", p.errorf("unterminated quote")
			}
			c := p.s[p.i]
			p.i++
			if c == q {
				break
			}
			if c == '\\' && !p.eof() {
				c = p.s[p.i]
				p.i++
			}
			b.WriteByte(c)
		}
		p.skipSpace()
		return b.String(), nil
	}
	for !p.eof() {
		c := p.s[p.i]
		if c == ',' || (closer != 0 && c == closer) {
			break
		}
		p.i++
		if c == '\\' && !p.eof() {
			c = p.s[p.i]
			p.i++
		}
		b.WriteByte(c)
	}
	return strings.TrimRight(b.String(), " \t\r\n"), nil
}
