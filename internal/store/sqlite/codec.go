package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/stagecast/stagecast/internal/store"
)

// Times are stored as nanoseconds since the Unix epoch, which covers the
// years 1678 to 2262.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

func encodeTime(t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("created_at %s out of range", t)
	}
	return t.UnixNano(), nil
}

func decodeTime(ns int64) time.Time {
	return time.Unix(0, ns).UTC()
}

// encodeAttrs returns the JSON copy of attrs kept in resources.attrs
// ([["name","value"],...]), or nil (NULL) when there are none.
func encodeAttrs(attrs []store.Attr) (any, error) {
	if len(attrs) == 0 {
		return nil, nil
	}
	pairs := make([][2]string, len(attrs))
	for i, a := range attrs {
		pairs[i] = [2]string{a.Name, a.Value}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("encode attrs: %w", err)
	}
	return string(b), nil
}

func decodeAttrs(b []byte) ([]store.Attr, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(b, &pairs); err != nil {
		return nil, fmt.Errorf("decode attrs: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	attrs := make([]store.Attr, len(pairs))
	for i, p := range pairs {
		attrs[i] = store.Attr{Name: p[0], Value: p[1]}
	}
	return attrs, nil
}

// encodeTags returns the JSON object kept in resources.tags, or nil (NULL)
// for a nil map. An empty non-nil map is stored as "{}".
func encodeTags(tags map[string]string) (any, error) {
	if tags == nil {
		return nil, nil
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return nil, fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}

func decodeTags(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var tags map[string]string
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	return tags, nil
}

// nullString maps "" to NULL (for lookup, so that records without one do not
// collide on UNIQUE (kind, lookup)).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanRecord reads one row selected with recordColumns.
func scanRecord(s rowScanner) (*store.Record, error) {
	var (
		r               store.Record
		kind            string
		attrs, tags     []byte
		data            []byte
		createdAt       int64
		seq, version    int64
		key, parent, lk string
	)
	if err := s.Scan(&key, &kind, &parent, &lk, &attrs, &tags, &data, &createdAt, &seq, &version); err != nil {
		return nil, err
	}
	var err error
	if r.Attrs, err = decodeAttrs(attrs); err != nil {
		return nil, fmt.Errorf("record %s: %w", key, err)
	}
	if r.Tags, err = decodeTags(tags); err != nil {
		return nil, fmt.Errorf("record %s: %w", key, err)
	}
	r.Key, r.Kind, r.Parent, r.Lookup = key, store.Kind(kind), parent, lk
	r.Data = data
	r.CreatedAt = decodeTime(createdAt)
	r.Seq, r.Version = seq, version
	return &r, nil
}
