package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validator collects constraint violations. Generated Validate methods
// call it; the zero value is ready.
type Validator struct {
	msgs []string
}

// Err returns nil or a *ValidationError with every violation.
func (v *Validator) Err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	return &ValidationError{Messages: v.msgs}
}

func (v *Validator) add(path, value, msg string) {
	if value == "" {
		v.msgs = append(v.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, msg))
		return
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, path, msg))
}

// Missing records an absent required member.
func (v *Validator) Missing(path string) {
	v.add(path, "", "Member must not be null")
}

// String checks a string's length (in characters), pattern and enum.
// min/max < 0 mean unbounded; re and enum may be nil.
func (v *Validator) String(path, s string, min, max int, re *regexp.Regexp, enum []string) {
	n := utf8.RuneCountInString(s)
	if min >= 0 && n < min {
		v.add(path, show(s), fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max >= 0 && n > max {
		v.add(path, show(s), fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	if re != nil && !re.MatchString(s) {
		v.add(path, show(s), "Member must satisfy regular expression pattern: "+unanchor(re.String()))
	}
	if enum != nil {
		for _, e := range enum {
			if e == s {
				return
			}
		}
		v.add(path, show(s), "Member must satisfy enum value set: ["+strings.Join(enum, ", ")+"]")
	}
}

// Int checks an integer range; hasMin/hasMax say which bounds apply.
func (v *Validator) Int(path string, n int64, min, max int64, hasMin, hasMax bool) {
	if hasMin && n < min {
		v.add(path, strconv.FormatInt(n, 10), fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if hasMax && n > max {
		v.add(path, strconv.FormatInt(n, 10), fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// Float checks a floating-point range.
func (v *Validator) Float(path string, f float64, min, max float64, hasMin, hasMax bool) {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if hasMin && f < min {
		v.add(path, s, fmt.Sprintf("Member must have value greater than or equal to %s", strconv.FormatFloat(min, 'g', -1, 64)))
	}
	if hasMax && f > max {
		v.add(path, s, fmt.Sprintf("Member must have value less than or equal to %s", strconv.FormatFloat(max, 'g', -1, 64)))
	}
}

// Count checks the number of items of a list or map.
func (v *Validator) Count(path string, n, min, max int) {
	if min >= 0 && n < min {
		v.add(path, "", fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max >= 0 && n > max {
		v.add(path, "", fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// show truncates long values in messages and never prints more than 64
// characters of user input.
func show(s string) string {
	const maxShown = 64
	if utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	r := []rune(s)
	return string(r[:maxShown]) + "..."
}

// Pattern compiles a model pattern with full-match semantics (the model's
// patterns describe the whole value).
func Pattern(p string) *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + p + `)$`)
}

func unanchor(p string) string {
	p = strings.TrimPrefix(p, "^(?:")
	return strings.TrimSuffix(p, ")$")
}

// Path joins a parent path and a member name.
func Path(parent, member string) string {
	if parent == "" {
		return member
	}
	return parent + "." + member
}

// Index names a list element.
func Index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// Key names a map entry.
func Key(parent, k string) string {
	return parent + "[" + strconv.Quote(k) + "]"
}
