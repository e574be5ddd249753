package wiretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/model/wire"
)

// Rounds is how many random values CheckAppendJSON tries per shape, after
// the zero value.
const Rounds = 200

// CheckAppendJSON fails t unless, for the zero value and Rounds random
// values of every shape made by the makers, AppendJSON appends exactly the
// bytes encoding/json writes (HTML escaping off), and fails exactly when
// encoding/json does. The random values reach every member, list element
// and map entry, with strings full of escapes and invalid UTF-8, numbers at
// the format boundaries and times outside the encodable years.
func CheckAppendJSON(t *testing.T, makers []func() wire.JSONAppender) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, mk := range makers {
		name := reflect.TypeOf(mk()).Elem().Name()
		for round := range Rounds + 1 {
			v := mk()
			if round > 0 {
				fill(reflect.ValueOf(v).Elem(), rnd, 0)
			}
			want, wantErr := StdJSON(v)
			got, gotErr := v.AppendJSON([]byte("prefix"))
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("%s round %d: encoding/json error %v, AppendJSON error %v", name, round, wantErr, gotErr)
			}
			if wantErr != nil {
				continue
			}
			if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
				t.Fatalf("%s round %d:\n AppendJSON    %s\n encoding/json %s", name, round, got, want)
			}
		}
	}
}

// StdJSON is what the API writes for v through encoding/json: HTML
// escaping off, no trailing newline. Generated encoders must match it.
func StdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// maxDepth stops recursive shapes from growing without bound.
const maxDepth = 4

var (
	stringPalette = []string{
		"", "a", "channel-1", `quote " and \ backslash`, "tab\tnew\nline\rret", "\b\f\x00\x01\x1f\x7f",
		"<html> & 'amp'", "unicode é 日本 🎥", "line\u2028para\u2029", "bad \xff utf8 \xc3", "arn:aws:ivs:us-west-2:123456789012:stage/AbCd",
	}
	floatPalette = []float64{0, math.Copysign(0, -1), 1, -1.5, 123.456, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300, -2.5e-300,
		math.SmallestNonzeroFloat64, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}
	zones = []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("", -8*3600)}
)

// fill sets v (settable) to a random value of its type.
func fill(v reflect.Value, rnd *rand.Rand, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if rnd.IntN(4) == 0 || depth > maxDepth {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), rnd, depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(randomTime(rnd)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), rnd, depth+1)
			}
		}
	case reflect.Slice:
		switch n := rnd.IntN(8); {
		case n < 2 || depth > maxDepth:
			v.SetZero()
		case n < 3:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-2, n-2)
			for i := range s.Len() {
				fill(s.Index(i), rnd, depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch n := rnd.IntN(8); {
		case n < 2 || depth > maxDepth:
			v.SetZero()
		case n < 3:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range n - 2 {
				k := reflect.New(v.Type().Key()).Elem()
				fill(k, rnd, depth+1)
				e := reflect.New(v.Type().Elem()).Elem()
				fill(e, rnd, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.String:
		s := stringPalette[rnd.IntN(len(stringPalette))]
		if rnd.IntN(2) == 0 {
			s += stringPalette[rnd.IntN(len(stringPalette))]
		}
		v.SetString(s)
	case reflect.Int64:
		switch rnd.IntN(3) {
		case 0:
			v.SetInt(rnd.Int64N(100))
		case 1:
			v.SetInt(-rnd.Int64())
		default:
			v.SetInt(rnd.Int64())
		}
	case reflect.Float64:
		if rnd.IntN(2) == 0 {
			v.SetFloat(floatPalette[rnd.IntN(len(floatPalette))])
		} else {
			v.SetFloat((rnd.Float64() - 0.5) * math.Pow(10, float64(rnd.IntN(60)-30)))
		}
	case reflect.Bool:
		v.SetBool(rnd.IntN(2) == 0)
	default:
		panic(fmt.Sprintf("wiretest: no random values for %s", v.Type()))
	}
}

func randomTime(rnd *rand.Rand) time.Time {
	sec := rnd.Int64N(4102444800) // 1970-2100
	if rnd.IntN(20) == 0 {
		sec = 253402300800 + rnd.Int64N(1e6) // after year 9999: unencodable
	}
	nsec := int64(0)
	switch rnd.IntN(3) {
	case 1:
		nsec = rnd.Int64N(1e9)
	case 2:
		nsec = rnd.Int64N(1000) * 1e6
	}
	return time.Unix(sec, nsec).In(zones[rnd.IntN(len(zones))])
}
