package wire_test

import (
	"math"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/model/wire/wiretest"
)

func stdJSON(t *testing.T, v any) (string, bool) {
	t.Helper()
	b, err := wiretest.StdJSON(v)
	return string(b), err == nil
}

// FuzzAppendString: any string is written exactly as encoding/json writes
// it with HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\b\f\n\r\t\x1f\x7f", "<&>", "\u2028\u2029", "\xff\xfe", "é日🎥", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := stdJSON(t, s)
		if got := string(wire.AppendString(nil, s)); got != want {
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
		got, err := wire.AppendFloat(nil, v)
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
		got, err := wire.AppendTime(nil, tm)
		if err != nil || string(got) != want {
			t.Errorf("AppendTime(%v) = %s, %v; want %s", tm, got, err, want)
		}
	}
	if _, err := wire.AppendTime(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("AppendTime accepted year 10000, which encoding/json refuses")
	}
	m := map[string]string{"z": "1", "a": "\"2\"", "é": "3", "": "4"}
	if want, _ := stdJSON(t, m); string(wire.AppendStringMap(nil, m)) != want {
		t.Errorf("AppendStringMap = %s, want %s", wire.AppendStringMap(nil, m), want)
	}
	if got := string(wire.AppendStringMap(nil, nil)) + string(wire.AppendStrings(nil, nil)); got != "nullnull" {
		t.Errorf("nil map and list = %s, want nullnull", got)
	}
	l := []string{"a", "", "b\n"}
	if want, _ := stdJSON(t, l); string(wire.AppendStrings(nil, l)) != want {
		t.Errorf("AppendStrings = %s, want %s", wire.AppendStrings(nil, l), want)
	}
	if got := string(wire.AppendKey(wire.AppendKey([]byte("{"), 1, `"a":`), 1, `"b":`)); got != `{"a":,"b":` {
		t.Errorf("AppendKey = %s", got)
	}
}
