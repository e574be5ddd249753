package awscmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/control/awsmodel"
)

// fieldCache maps (struct type, member name) to the field index, so the
// case-insensitive lookup runs once per pair.
var fieldCache sync.Map // fieldKey -> int (-1 when absent)

type fieldKey struct {
	t      reflect.Type
	member string
}

// fieldFor returns the index of the exported field of struct type t that
// carries member (the SDK's PascalCase spelling of the wire name), or -1.
func fieldFor(t reflect.Type, member string) int {
	key := fieldKey{t, member}
	if v, ok := fieldCache.Load(key); ok {
		return v.(int)
	}
	idx := -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Name == "ResultMetadata" {
			continue
		}
		if strings.EqualFold(f.Name, member) {
			idx = i
			break
		}
	}
	fieldCache.Store(key, idx)
	return idx
}

// toWire converts an SDK value to the wire JSON tree of shapeName; ok is
// false for absent values (nil pointers, maps and slices).
func toWire(m *awsmodel.Model, shapeName string, v reflect.Value) (any, bool) {
	indirect := false
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v, indirect = v.Elem(), true
	}
	s := m.Shapes[shapeName]
	switch s.Type {
	case "structure":
		if v.Kind() != reflect.Struct {
			return nil, false
		}
		out := map[string]any{}
		for name, mem := range s.Members {
			idx := fieldFor(v.Type(), name)
			if idx < 0 {
				continue
			}
			if w, ok := toWire(m, mem.Shape, v.Field(idx)); ok {
				out[name] = w
			}
		}
		return out, true
	case "list":
		if v.Kind() != reflect.Slice || v.IsNil() {
			return nil, false
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			w, ok := toWire(m, s.Member.Shape, v.Index(i))
			if !ok {
				w = nil
			}
			out = append(out, w)
		}
		return out, true
	case "map":
		if v.Kind() != reflect.Map || v.IsNil() {
			return nil, false
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			if w, ok := toWire(m, s.Value.Shape, iter.Value()); ok {
				out[iter.Key().String()] = w
			}
		}
		return out, true
	case "timestamp":
		t, ok := v.Interface().(time.Time)
		if !ok {
			return nil, false
		}
		return formatTime(t), true
	}
	switch v.Kind() {
	case reflect.String:
		// Enums are plain string types in the SDK, so an absent enum reads
		// as "": omit it. A *string holding "" was really sent and is kept.
		if !indirect && len(s.Enum) > 0 && v.String() == "" {
			return nil, false
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32:
		return float32(v.Float()), true // keeps 29.97 from printing as 29.969999...
	case reflect.Float64:
		return v.Float(), true
	}
	return nil, false
}

// formatTime prints a timestamp the way the AWS CLI does (Python's
// datetime.isoformat in UTC): microseconds only when non-zero.
func formatTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// outputToWire converts an SDK operation output to its wire JSON object.
func outputToWire(m *awsmodel.Model, op awsmodel.Operation, out reflect.Value) map[string]any {
	if op.Output == nil {
		return map[string]any{}
	}
	w, ok := toWire(m, op.Output.Shape, out)
	if !ok {
		return map[string]any{}
	}
	return w.(map[string]any)
}

// printJSON writes v like the AWS CLI: 4-space indentation, keys sorted,
// no HTML escaping, trailing newline.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
