package awscmd

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var shorthandCases = []struct {
	name    string
	in      string
	want    map[string]any
	wantErr string
}{
	{"pairs", "username=todd,isFeatured=false", map[string]any{"username": "todd", "isFeatured": "false"}, ""},
	{"spaces around", " a = b , c=d ", map[string]any{"a": "b", "c": "d"}, ""},
	{"empty value", "a=,b=c", map[string]any{"a": "", "b": "c"}, ""},
	{"equals inside value", "token=abc==,x=1", map[string]any{"token": "abc==", "x": "1"}, ""},
	{"csv list value", "keys=a,b,c,other=d", map[string]any{"keys": []any{"a", "b", "c"}, "other": "d"}, ""},
	{"explicit list", "keys=[a, b],x=1", map[string]any{"keys": []any{"a", "b"}, "x": "1"}, ""},
	{"empty list", "keys=[]", map[string]any{"keys": []any{}}, ""},
	{"hash", "grid={featuredParticipantAttribute=f,gridGap=4}", map[string]any{"grid": map[string]any{"featuredParticipantAttribute": "f", "gridGap": "4"}}, ""},
	{"list of hashes", "l=[{a=1},{a=2}]", map[string]any{"l": []any{map[string]any{"a": "1"}, map[string]any{"a": "2"}}}, ""},
	{"quoted with comma", `desc="hello, world",b='x=y'`, map[string]any{"desc": "hello, world", "b": "x=y"}, ""},
	{"escaped comma", `desc=hello\, world`, map[string]any{"desc": "hello, world"}, ""},
	{"missing equals", "a", nil, "expected '='"},
	{"duplicate key", "a=1,a=2", nil, "given twice"},
	{"unclosed hash", "a={b=1", nil, "missing '}'"},
	{"unclosed list", "a=[1,2", nil, "missing ']'"},
	{"unterminated quote", `a="x`, nil, "unterminated quote"},
	{"trailing comma", "a=1,", nil, "trailing comma"},
	{"empty", "", nil, "expected key=value"},
	{"too deep", "a=" + strings.Repeat("[", 40) + strings.Repeat("]", 40), nil, "nested deeper"},
}

func TestParseShorthand(t *testing.T) {
	t.Parallel()
	for _, tt := range shorthandCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseShorthand(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseShorthand(f *testing.F) {
	for _, tt := range shorthandCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseShorthand(s)
		if err == nil && m == nil {
			t.Fatal("nil map without error")
		}
	})
}
