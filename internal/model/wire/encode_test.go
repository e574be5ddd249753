package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func stdJSON(t *testing.T, v any) (string, bool) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), true
}

// FuzzAppendString: any string is written exactly as encoding/json writes
// it with HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\b\f\n\r\t\x1f\x7f", "<&>", "\u2028\u2029", "\xff\xfe", "é日🎥", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := stdJSON(t, s)
		if got := string(AppendString(nil, s)); got != want {
			t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

// FuzzAppendFloat: numbers take encoding/json's form, and the same values
// are refused.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1e-300, math.MaxFloat64, math.Copysign(0, -1)} {
		f.Add(v)
	}
	f.Add(math.NaN())
	f.Add(math.Inf(1))
	f.Fuzz(func(t *testing.T, v float64) {
		want, ok := stdJSON(t, v)
		got, err := AppendFloat(nil, v)
		if ok != (err == nil) || ok && string(got) != want {
			t.Fatalf("AppendFloat(%v) = %s, %v; encoding/json %s, ok %v", v, got, err, want, ok)
		}
	})
}

func TestAppendTimeAndCollections(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("", 5*3600+1800)),
		time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", -8*3600)),
	} {
		want, _ := stdJSON(t, tm)
		got, err := AppendTime(nil, tm)
		if err != nil || string(got) != want {
			t.Errorf("AppendTime(%v) = %s, %v; want %s", tm, got, err, want)
		}
	}
	if _, err := AppendTime(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("AppendTime accepted year 10000, which encoding/json refuses")
	}
	m := map[string]string{"z": "1", "a": "\"2\"", "é": "3", "": "4"}
	if want, _ := stdJSON(t, m); string(AppendStringMap(nil, m)) != want {
		t.Errorf("AppendStringMap = %s, want %s", AppendStringMap(nil, m), want)
	}
	if got := string(AppendStringMap(nil, nil)) + string(AppendStrings(nil, nil)); got != "nullnull" {
		t.Errorf("nil map and list = %s, want nullnull", got)
	}
	l := []string{"a", "", "b\n"}
	if want, _ := stdJSON(t, l); string(AppendStrings(nil, l)) != want {
		t.Errorf("AppendStrings = %s, want %s", AppendStrings(nil, l), want)
	}
	if got := string(AppendKey(AppendKey([]byte("{"), 1, `"a":`), 1, `"b":`)); got != `{"a":,"b":` {
		t.Errorf("AppendKey = %s", got)
	}
}
