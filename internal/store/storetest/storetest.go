package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/store"
)

// Run runs the conformance suite against the backend that open returns.
// Each subtest runs in parallel and calls open once; open must return a new,
// empty store (and arrange, with t.Cleanup, for it to be closed).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"CreatedAt", testCreatedAt},
		{"EmptyTagsAndAttrs", testEmptyTagsAndAttrs},
		{"GetMissing", testGetMissing},
		{"CreateExists", testCreateExists},
		{"SeqIncreases", testSeqIncreases},
		{"Update", testUpdate},
		{"UpdateErrors", testUpdateErrors},
		{"Put", testPut},
		{"Delete", testDelete},
		{"DeleteCascade", testDeleteCascade},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"ListDescending", testListDescending},
		{"Count", testCount},
		{"ApplyAtomic", testApplyAtomic},
		{"ApplyBatch", testApplyBatch},
		{"ApplyInvalid", testApplyInvalid},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentReadWrite", testConcurrentReadWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// CheckRecord fails t unless got holds the same record as want. Nil and
// empty Attrs, Tags and Data are considered equal, as are instants of
// CreatedAt in different locations; got.CreatedAt must be in UTC.
func CheckRecord(t testing.TB, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %s: got nil", want.Key)
	}
	if got.Key != want.Key || got.Kind != want.Kind || got.Parent != want.Parent || got.Lookup != want.Lookup {
		t.Errorf("record %s: got key/kind/parent/lookup %q/%q/%q/%q, want %q/%q/%q/%q", want.Key,
			got.Key, got.Kind, got.Parent, got.Lookup, want.Key, want.Kind, want.Parent, want.Lookup)
	}
	if !slices.Equal(got.Attrs, want.Attrs) {
		t.Errorf("record %s: got attrs %v, want %v", want.Key, got.Attrs, want.Attrs)
	}
	if !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("record %s: got tags %v, want %v", want.Key, got.Tags, want.Tags)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("record %s: got data %q, want %q", want.Key, got.Data, want.Data)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("record %s: got created at %v, want %v", want.Key, got.CreatedAt, want.CreatedAt)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("record %s: created at %v is not in UTC", want.Key, got.CreatedAt)
	}
	if got.Seq != want.Seq || got.Version != want.Version {
		t.Errorf("record %s: got seq/version %d/%d, want %d/%d", want.Key, got.Seq, got.Version, want.Seq, want.Version)
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustCreate(t *testing.T, s store.Store, r *store.Record) *store.Record {
	t.Helper()
	if err := store.Create(ctx(t), s, r); err != nil {
		t.Fatalf("create %s: %v", r.Key, err)
	}
	return r
}

func mustGet(t *testing.T, s store.Store, key string) *store.Record {
	t.Helper()
	r, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return r
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	_, err := s.Get(ctx(t), key)
	wantErr(t, "get "+key, err, store.ErrNotFound)
}

func keys(rs []*store.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}

func record(key string, kind store.Kind) *store.Record {
	return &store.Record{Key: key, Kind: kind, Data: []byte(`{"key":"` + key + `"}`)}
}

func testCreateGetRoundTrip(t *testing.T, s store.Store) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		r    store.Record
	}{
		{"full", store.Record{
			Key:    "arn:aws:ivs:us-west-2:123456789012:channel/abc",
			Kind:   store.KindChannel,
			Lookup: "lookup-abc",
			Attrs: []store.Attr{
				{Name: "recordingConfigurationArn", Value: "arn:rc/1"},
				{Name: "stage", Value: "s1"},
				{Name: "stage", Value: "s2"},
			},
			Tags:      map[string]string{"env": "prod", "team": "video", "": "empty key"},
			Data:      []byte(`{"name":"abc","latencyMode":"LOW"}`),
			CreatedAt: created,
		}},
		{"child", store.Record{
			Key:    "arn:aws:ivs:us-west-2:123456789012:channel/abc/session/1",
			Kind:   store.KindStreamSession,
			Parent: "arn:aws:ivs:us-west-2:123456789012:channel/abc",
			Data:   []byte(`{}`),
		}},
		{"minimal", store.Record{Key: "k", Kind: "internal"}},
		{"binary data", store.Record{Key: "bin", Kind: "internal", Data: []byte{0, 1, 2, 0xff, 0}}},
		{"unicode", store.Record{
			Key: "κλειδί/☃", Kind: "internal", Lookup: "ĺôökúp",
			Attrs: []store.Attr{{Name: "ñ", Value: "🎥"}},
			Tags:  map[string]string{"ключ": "значение"},
		}},
	}
	for _, tt := range tests {
		r := tt.r
		before := time.Now()
		mustCreate(t, s, &r)
		if r.Seq <= 0 {
			t.Errorf("%s: seq %d not set", tt.name, r.Seq)
		}
		if r.Version != 1 {
			t.Errorf("%s: version %d, want 1", tt.name, r.Version)
		}
		if tt.r.CreatedAt.IsZero() {
			if r.CreatedAt.Before(before.Add(-time.Second)) || r.CreatedAt.After(time.Now().Add(time.Second)) {
				t.Errorf("%s: created at %v, want about now", tt.name, r.CreatedAt)
			}
		} else if !r.CreatedAt.Equal(tt.r.CreatedAt) {
			t.Errorf("%s: created at %v, want %v", tt.name, r.CreatedAt, tt.r.CreatedAt)
		}

		got := mustGet(t, s, r.Key)
		CheckRecord(t, got, &r)
		if r.Lookup != "" {
			got, err := s.GetByLookup(ctx(t), r.Kind, r.Lookup)
			if err != nil {
				t.Fatalf("%s: get by lookup: %v", tt.name, err)
			}
			CheckRecord(t, got, &r)
		}
	}

	// A returned record is the caller's: changing it does not change the store.
	got := mustGet(t, s, "k")
	got.Data = []byte("changed")
	CheckRecord(t, mustGet(t, s, "k"), &store.Record{Key: "k", Kind: "internal", CreatedAt: got.CreatedAt, Seq: got.Seq, Version: 1})
}

func testCreatedAt(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		in   time.Time
	}{
		{"nanoseconds", time.Date(2025, 1, 2, 3, 4, 5, 999999999, time.UTC)},
		{"other zone", time.Date(2025, 1, 2, 3, 4, 5, 1, time.FixedZone("minus", -7*3600))},
		{"local with monotonic", time.Now()},
		{"epoch", time.Unix(0, 0)},
	}
	for i, tt := range tests {
		r := &store.Record{Key: fmt.Sprintf("t%d", i), Kind: "internal", CreatedAt: tt.in}
		mustCreate(t, s, r)
		if !r.CreatedAt.Equal(tt.in) || r.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: written back %v, want %v in UTC", tt.name, r.CreatedAt, tt.in)
		}
		got := mustGet(t, s, r.Key)
		if !got.CreatedAt.Equal(tt.in) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: read back %v, want %v in UTC", tt.name, got.CreatedAt, tt.in)
		}
		if !got.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("%s: read back %v, written back %v", tt.name, got.CreatedAt, r.CreatedAt)
		}
	}

	// Zero CreatedAt means now, in UTC.
	r := &store.Record{Key: "now", Kind: "internal"}
	before := time.Now().Add(-time.Second)
	mustCreate(t, s, r)
	if r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("zero created at: written back %v, want now in UTC", r.CreatedAt)
	}
	if got := mustGet(t, s, "now"); !got.CreatedAt.Equal(r.CreatedAt) {
		t.Errorf("zero created at: read back %v, written back %v", got.CreatedAt, r.CreatedAt)
	}
}

func testEmptyTagsAndAttrs(t *testing.T, s store.Store) {
	tests := []struct {
		name  string
		tags  map[string]string
		attrs []store.Attr
	}{
		{"nil", nil, nil},
		{"empty", map[string]string{}, []store.Attr{}},
	}
	for i, tt := range tests {
		r := &store.Record{Key: fmt.Sprintf("e%d", i), Kind: "internal", Tags: tt.tags, Attrs: tt.attrs}
		mustCreate(t, s, r)
		got := mustGet(t, s, r.Key)
		if len(got.Tags) != 0 || len(got.Attrs) != 0 {
			t.Errorf("%s: got tags %v attrs %v, want none", tt.name, got.Tags, got.Attrs)
		}
		if tt.tags == nil && got.Tags != nil {
			t.Errorf("%s: nil tags read back as %#v", tt.name, got.Tags)
		}
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	mustCreate(t, s, &store.Record{Key: "a", Kind: store.KindChannel, Lookup: "la"})
	tests := []struct {
		name string
		get  func() (*store.Record, error)
	}{
		{"key", func() (*store.Record, error) { return s.Get(ctx(t), "b") }},
		{"empty key", func() (*store.Record, error) { return s.Get(ctx(t), "") }},
		{"lookup", func() (*store.Record, error) { return s.GetByLookup(ctx(t), store.KindChannel, "lb") }},
		{"lookup other kind", func() (*store.Record, error) { return s.GetByLookup(ctx(t), store.KindStage, "la") }},
		{"empty lookup", func() (*store.Record, error) { return s.GetByLookup(ctx(t), store.KindChannel, "") }},
	}
	for _, tt := range tests {
		r, err := tt.get()
		if !errors.Is(err, store.ErrNotFound) || r != nil {
			t.Errorf("%s: got %v, %v; want nil, ErrNotFound", tt.name, r, err)
		}
	}
}

func testCreateExists(t *testing.T, s store.Store) {
	mustCreate(t, s, &store.Record{Key: "a", Kind: store.KindStreamKey, Lookup: "secret"})
	mustCreate(t, s, &store.Record{Key: "b", Kind: store.KindStreamKey})
	tests := []struct {
		name string
		r    store.Record
		want error
	}{
		{"same key", store.Record{Key: "a", Kind: store.KindStreamKey}, store.ErrExists},
		{"same key other kind", store.Record{Key: "a", Kind: store.KindChannel}, store.ErrExists},
		{"same lookup", store.Record{Key: "c", Kind: store.KindStreamKey, Lookup: "secret"}, store.ErrExists},
		{"same lookup other kind", store.Record{Key: "d", Kind: store.KindPlaybackKey, Lookup: "secret"}, nil},
		{"no lookup twice", store.Record{Key: "e", Kind: store.KindStreamKey}, nil},
	}
	for _, tt := range tests {
		r := tt.r
		err := store.Create(ctx(t), s, &r)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: got error %v, want %v", tt.name, err, tt.want)
		}
		if tt.want != nil && (r.Seq != 0 || r.Version != 0) {
			t.Errorf("%s: failed create wrote back seq %d version %d", tt.name, r.Seq, r.Version)
		}
	}
	if got := mustGet(t, s, "a"); got.Kind != store.KindStreamKey {
		t.Errorf("original record changed: %+v", got)
	}
}

func testSeqIncreases(t *testing.T, s store.Store) {
	var last int64
	for i := range 20 {
		r := mustCreate(t, s, record(fmt.Sprintf("r%d", i), "internal"))
		if r.Seq <= last {
			t.Fatalf("create %d: seq %d not above %d", i, r.Seq, last)
		}
		last = r.Seq
	}
	// Seq is not reused after a delete.
	if err := store.Delete(ctx(t), s, "r19"); err != nil {
		t.Fatal(err)
	}
	if r := mustCreate(t, s, record("again", "internal")); r.Seq <= last {
		t.Fatalf("seq %d reused after delete (last %d)", r.Seq, last)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	created := time.Date(2024, 1, 1, 0, 0, 0, 5, time.UTC)
	r := mustCreate(t, s, &store.Record{
		Key: "c", Kind: store.KindComposition, Parent: "p1", Lookup: "token1",
		Attrs:     []store.Attr{{Name: "stage", Value: "s1"}},
		Tags:      map[string]string{"a": "1"},
		Data:      []byte(`{"v":1}`),
		CreatedAt: created,
	})
	seq := r.Seq

	upd := *r
	upd.Parent = "p2"
	upd.Lookup = "token2"
	upd.Attrs = []store.Attr{{Name: "stage", Value: "s2"}, {Name: "other", Value: "x"}}
	upd.Tags = map[string]string{"b": "2"}
	upd.Data = []byte(`{"v":2}`)
	upd.CreatedAt = time.Time{} // ignored by update
	if err := store.Update(ctx(t), s, &upd); err != nil {
		t.Fatalf("update: %v", err)
	}
	if upd.Version != 2 || upd.Seq != seq || !upd.CreatedAt.Equal(created) {
		t.Errorf("update wrote back seq/version/created %d/%d/%v, want %d/2/%v", upd.Seq, upd.Version, upd.CreatedAt, seq, created)
	}
	CheckRecord(t, mustGet(t, s, "c"), &upd)

	// Lookup and attrs were replaced, not added to.
	if _, err := s.GetByLookup(ctx(t), store.KindComposition, "token1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old lookup: got %v, want ErrNotFound", err)
	}
	if got, err := s.GetByLookup(ctx(t), store.KindComposition, "token2"); err != nil || got.Key != "c" {
		t.Errorf("new lookup: got %v, %v", got, err)
	}
	for _, tt := range []struct {
		attr store.Attr
		want int
	}{
		{store.Attr{Name: "stage", Value: "s1"}, 0},
		{store.Attr{Name: "stage", Value: "s2"}, 1},
		{store.Attr{Name: "other", Value: "x"}, 1},
	} {
		p, err := s.List(ctx(t), store.Query{Kind: store.KindComposition, Attrs: []store.Attr{tt.attr}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != tt.want {
			t.Errorf("list by %v: got %v, want %d records", tt.attr, keys(p.Records), tt.want)
		}
	}

	// A second update from the written-back record succeeds.
	upd.Data = []byte(`{"v":3}`)
	if err := store.Update(ctx(t), s, &upd); err != nil || upd.Version != 3 {
		t.Fatalf("second update: %v (version %d)", err, upd.Version)
	}
	// Updating to no lookup frees the old one.
	upd.Lookup = ""
	if err := store.Update(ctx(t), s, &upd); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, &store.Record{Key: "c2", Kind: store.KindComposition, Lookup: "token2"})
}

func testUpdateErrors(t *testing.T, s store.Store) {
	a := mustCreate(t, s, &store.Record{Key: "a", Kind: store.KindStage, Lookup: "la"})
	mustCreate(t, s, &store.Record{Key: "b", Kind: store.KindStage, Lookup: "lb"})
	tests := []struct {
		name string
		r    store.Record
		want error
	}{
		{"missing", store.Record{Key: "zz", Kind: store.KindStage, Version: 1}, store.ErrNotFound},
		{"stale older", store.Record{Key: "a", Kind: store.KindStage, Version: 0}, store.ErrStale},
		{"stale newer", store.Record{Key: "a", Kind: store.KindStage, Version: 2}, store.ErrStale},
		{"lookup taken", store.Record{Key: "a", Kind: store.KindStage, Lookup: "lb", Version: 1}, store.ErrExists},
	}
	for _, tt := range tests {
		r := tt.r
		err := store.Update(ctx(t), s, &r)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
		if r.Version != tt.r.Version {
			t.Errorf("%s: failed update changed version to %d", tt.name, r.Version)
		}
	}
	CheckRecord(t, mustGet(t, s, "a"), a)

	// Two writers holding the same version: the second one loses.
	w1, w2 := *a, *a
	w1.Data, w2.Data = []byte("1"), []byte("2")
	if err := store.Update(ctx(t), s, &w1); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "concurrent update", store.Update(ctx(t), s, &w2), store.ErrStale)
	if got := mustGet(t, s, "a"); string(got.Data) != "1" {
		t.Errorf("data %q, want 1", got.Data)
	}
}

func testPut(t *testing.T, s store.Store) {
	// Put of a new key inserts.
	created := time.Date(2023, 3, 3, 3, 3, 3, 3, time.UTC)
	r := &store.Record{Key: "p", Kind: store.KindPublicKey, Lookup: "fp", Data: []byte("1"), CreatedAt: created,
		Attrs: []store.Attr{{Name: "a", Value: "1"}}, Version: 42}
	if err := s.Apply(ctx(t), store.Op{Type: store.OpPut, Record: r}); err != nil {
		t.Fatalf("put new: %v", err)
	}
	if r.Seq <= 0 || r.Version != 1 || !r.CreatedAt.Equal(created) {
		t.Errorf("put new wrote back seq/version/created %d/%d/%v", r.Seq, r.Version, r.CreatedAt)
	}
	CheckRecord(t, mustGet(t, s, "p"), r)
	seq := r.Seq

	mustCreate(t, s, record("other", "internal")) // moves Seq on

	// Put of an existing key replaces it, whatever the version, keeping
	// Seq and CreatedAt.
	r2 := &store.Record{Key: "p", Kind: store.KindPublicKey, Lookup: "fp2", Data: []byte("2"),
		Attrs: []store.Attr{{Name: "a", Value: "2"}}, Tags: map[string]string{"t": "v"}, Version: 0,
		CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Apply(ctx(t), store.Op{Type: store.OpPut, Record: r2}); err != nil {
		t.Fatalf("put existing: %v", err)
	}
	if r2.Seq != seq || r2.Version != 2 || !r2.CreatedAt.Equal(created) {
		t.Errorf("put existing wrote back seq/version/created %d/%d/%v, want %d/2/%v", r2.Seq, r2.Version, r2.CreatedAt, seq, created)
	}
	CheckRecord(t, mustGet(t, s, "p"), r2)
	if _, err := s.GetByLookup(ctx(t), store.KindPublicKey, "fp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old lookup after put: %v", err)
	}
	p, err := s.List(ctx(t), store.Query{Kind: store.KindPublicKey, Attrs: []store.Attr{{Name: "a", Value: "1"}}})
	if err != nil || len(p.Records) != 0 {
		t.Errorf("old attr after put: %v, %v", keys(p.Records), err)
	}

	// Put cannot take another record's lookup.
	mustCreate(t, s, &store.Record{Key: "q", Kind: store.KindPublicKey, Lookup: "taken"})
	for _, key := range []string{"p", "new"} {
		err := s.Apply(ctx(t), store.Op{Type: store.OpPut, Record: &store.Record{Key: key, Kind: store.KindPublicKey, Lookup: "taken"}})
		wantErr(t, "put "+key+" with taken lookup", err, store.ErrExists)
	}
	wantMissing(t, s, "new")
}

func testDelete(t *testing.T, s store.Store) {
	mustCreate(t, s, &store.Record{Key: "a", Kind: store.KindStreamKey, Lookup: "sk", Attrs: []store.Attr{{Name: "channel", Value: "c"}}})
	wantErr(t, "delete missing", store.Delete(ctx(t), s, "b"), store.ErrNotFound)
	if err := store.Delete(ctx(t), s, "a"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantMissing(t, s, "a")
	wantErr(t, "delete again", store.Delete(ctx(t), s, "a"), store.ErrNotFound)
	p, err := s.List(ctx(t), store.Query{Kind: store.KindStreamKey, Attrs: []store.Attr{{Name: "channel", Value: "c"}}})
	if err != nil || len(p.Records) != 0 {
		t.Errorf("list after delete: %v, %v", keys(p.Records), err)
	}
	// Key and lookup are free again.
	mustCreate(t, s, &store.Record{Key: "a", Kind: store.KindStreamKey, Lookup: "sk"})
}

func testDeleteCascade(t *testing.T, s store.Store) {
	//   root            sibling
	//   ├── c1          └── s1
	//   │   ├── g1
	//   │   └── g2
	//   │       └── gg
	//   └── c2
	tree := []struct{ key, parent string }{
		{"root", ""}, {"c1", "root"}, {"c2", "root"}, {"g1", "c1"}, {"g2", "c1"}, {"gg", "g2"},
		{"sibling", ""}, {"s1", "sibling"},
	}
	for _, n := range tree {
		mustCreate(t, s, &store.Record{Key: n.key, Kind: "node", Parent: n.parent, Lookup: "l-" + n.key,
			Attrs: []store.Attr{{Name: "tree", Value: "x"}}})
	}
	if err := store.Delete(ctx(t), s, "c1"); err != nil {
		t.Fatalf("delete c1: %v", err)
	}
	for _, k := range []string{"c1", "g1", "g2", "gg"} {
		wantMissing(t, s, k)
	}
	for _, k := range []string{"root", "c2", "sibling", "s1"} {
		mustGet(t, s, k)
	}
	if err := store.Delete(ctx(t), s, "root"); err != nil {
		t.Fatalf("delete root: %v", err)
	}
	wantMissing(t, s, "root")
	wantMissing(t, s, "c2")
	p, err := s.List(ctx(t), store.Query{Kind: "node", Attrs: []store.Attr{{Name: "tree", Value: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(p.Records); !slices.Equal(got, []string{"sibling", "s1"}) {
		t.Errorf("left after deletes: %v, want [sibling s1]", got)
	}
	if n, err := s.Count(ctx(t), "node", ""); err != nil || n != 2 {
		t.Errorf("count after deletes: %d, %v", n, err)
	}
	// Lookups of deleted descendants are free again.
	mustCreate(t, s, &store.Record{Key: "gg", Kind: "node", Lookup: "l-gg"})
}
