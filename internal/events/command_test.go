package events

import (
	"slices"
	"strings"
	"testing"
)

var splitCases = []struct {
	in   string
	want []string
	err  string
}{
	{in: "cat", want: []string{"cat"}},
	{in: "  sh  -c   'cat > /tmp/x'  ", want: []string{"sh", "-c", "cat > /tmp/x"}},
	{in: `echo "a \"b\" \\ c" d\ e`, want: []string{"echo", `a "b" \ c`, "d e"}},
	{in: `x''y ""`, want: []string{"xy", ""}},
	{in: `"keep \n"`, want: []string{`keep \n`}},
	{in: "", err: "empty command"},
	{in: "'open", err: "unterminated single quote"},
	{in: `"open`, err: "unterminated double quote"},
	{in: `trail\`, err: "backslash"},
	{in: strings.Repeat("a ", MaxCommandArgs+1), err: "too many arguments"},
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range splitCases {
		got, err := SplitCommand(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SplitCommand(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzSplitCommand(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommand(s)
		if err != nil {
			return
		}
		if len(args) == 0 || len(args) > MaxCommandArgs {
			t.Fatalf("%d args", len(args))
		}
		n := 0
		for _, a := range args {
			n += len(a)
		}
		if n > len(s) {
			t.Fatalf("output longer than input")
		}
	})
}
