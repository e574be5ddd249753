package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/store"
	"github.com/stagecast/stagecast/internal/store/sqlite"
	"github.com/stagecast/stagecast/internal/store/storetest"
)

func openTemp(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTemp(t)
		return db
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "dir", "store.db")
	ctx := t.Context()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	want := &store.Record{
		Key: "arn:aws:ivs:us-west-2:123456789012:stage/abc", Kind: store.KindStage, Lookup: "tok",
		Attrs: []store.Attr{{Name: "n", Value: "v"}}, Tags: map[string]string{"k": "v"},
		Data: []byte(`{"name":"abc"}`), CreatedAt: time.Date(2025, 2, 3, 4, 5, 6, 7, time.UTC),
	}
	child := &store.Record{Key: want.Key + "/session/1", Kind: store.KindStageSession, Parent: want.Key}
	if err := db.Apply(ctx, store.Op{Type: store.OpCreate, Record: want}, store.Op{Type: store.OpCreate, Record: child}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// Reopening runs the migrations again (a no-op) and sees the data.
	for i := range 2 {
		db, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		got, err := db.Get(ctx, want.Key)
		if err != nil {
			t.Fatalf("reopen %d: get: %v", i, err)
		}
		storetest.CheckRecord(t, got, want)
		got, err = db.GetByLookup(ctx, store.KindStage, "tok")
		if err != nil {
			t.Fatalf("reopen %d: get by lookup: %v", i, err)
		}
		storetest.CheckRecord(t, got, want)
		if err := db.Close(); err != nil {
			t.Fatalf("reopen %d: close: %v", i, err)
		}
	}

	// Seq keeps increasing across reopen.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := &store.Record{Key: "next", Kind: "internal"}
	if err := store.Create(ctx, db, r); err != nil {
		t.Fatal(err)
	}
	if r.Seq <= child.Seq {
		t.Errorf("seq after reopen %d, want above %d", r.Seq, child.Seq)
	}
	// The cascade still works after reopen (foreign keys are on).
	if err := store.Delete(ctx, db, want.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get(ctx, child.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("child after delete: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"empty", ""},
		{"question mark", filepath.Join(dir, "a?b.db")},
		{"parent is a file", filepath.Join(notDir, "store.db")},
		{"path is a directory", dir},
	}
	for _, tt := range tests {
		db, err := sqlite.Open(t.Context(), tt.path)
		if err == nil {
			db.Close()
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	tests := []struct {
		name string
		q    store.Query
	}{
		{"no kind", store.Query{}},
		{"negative limit", store.Query{Kind: "x", Limit: -1}},
	}
	for _, tt := range tests {
		if _, err := db.List(t.Context(), tt.q); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := store.Create(ctx, db, &store.Record{Key: "k", Kind: "internal"}); !errors.Is(err, context.Canceled) {
		t.Errorf("create: got %v, want context.Canceled", err)
	}
	if _, err := db.Get(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after canceled create: %v", err)
	}
}

func TestManyListShapes(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := t.Context()
	r := &store.Record{Key: "k", Kind: "x", Parent: "p"}
	for i := range 6 {
		r.Attrs = append(r.Attrs, store.Attr{Name: fmt.Sprint(i), Value: "v"})
	}
	if err := store.Create(ctx, db, r); err != nil {
		t.Fatal(err)
	}
	// More query shapes (7*2*2*2*2 = 112) than the statement cache holds
	// still work, and all find the record.
	for n := range len(r.Attrs) + 1 {
		for _, parent := range []string{"", "p"} {
			for _, desc := range []bool{false, true} {
				for _, after := range []int64{0, r.Seq - 1} {
					for _, limit := range []int{0, 5} {
						q := store.Query{Kind: "x", Parent: parent, Attrs: r.Attrs[:n], Descending: desc, AfterSeq: after, Limit: limit}
						if desc && after > 0 {
							q.AfterSeq = r.Seq + 1
						}
						p, err := db.List(ctx, q)
						if err != nil || len(p.Records) != 1 || p.More {
							t.Fatalf("%+v: %d records, more %v, %v", q, len(p.Records), p.More, err)
						}
					}
				}
			}
		}
	}
}

func benchRecord(i int) *store.Record {
	return &store.Record{
		Key:    fmt.Sprintf("arn:aws:ivs:us-west-2:123456789012:channel/%08d", i),
		Kind:   store.KindChannel,
		Lookup: fmt.Sprintf("lookup-%08d", i),
		Attrs:  []store.Attr{{Name: "recordingConfigurationArn", Value: fmt.Sprintf("rc-%d", i%10)}},
		Tags:   map[string]string{"env": "bench", "team": "video"},
		Data:   []byte(`{"name":"bench","latencyMode":"LOW","type":"STANDARD","authorized":false,"insecureIngest":false}`),
	}
}

func seedBench(b *testing.B, db *sqlite.DB, n int) {
	b.Helper()
	ops := make([]store.Op, n)
	for i := range n {
		ops[i] = store.Op{Type: store.OpCreate, Record: benchRecord(i)}
	}
	if err := db.Apply(b.Context(), ops...); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	db, _ := openTemp(b)
	const n = 1000
	seedBench(b, db, n)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = benchRecord(i).Key
	}
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := db.Get(ctx, keys[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	db, _ := openTemp(b)
	const n = 1000
	seedBench(b, db, n)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = benchRecord(i).Key
	}
	ctx := b.Context()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Get(ctx, keys[next.Add(1)%n]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkList(b *testing.B) {
	db, _ := openTemp(b)
	seedBench(b, db, 1000)
	ctx := b.Context()
	for b.Loop() {
		p, err := db.List(ctx, store.Query{Kind: store.KindChannel, Limit: 50, AfterSeq: 500})
		if err != nil || len(p.Records) != 50 {
			b.Fatal(len(p.Records), err)
		}
	}
}

func BenchmarkListAttr(b *testing.B) {
	db, _ := openTemp(b)
	seedBench(b, db, 1000)
	ctx := b.Context()
	q := store.Query{Kind: store.KindChannel, Attrs: []store.Attr{{Name: "recordingConfigurationArn", Value: "rc-3"}}, Limit: 50}
	for b.Loop() {
		p, err := db.List(ctx, q)
		if err != nil || len(p.Records) != 50 {
			b.Fatal(len(p.Records), err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	db, _ := openTemp(b)
	ctx := b.Context()
	recs := make([]*store.Record, 0, 1024)
	i := 0
	for b.Loop() {
		if i%cap(recs) == 0 {
			b.StopTimer()
			recs = recs[:0]
			for j := range cap(recs) {
				recs = append(recs, benchRecord(i+j))
			}
			b.StartTimer()
		}
		if err := store.Create(ctx, db, recs[i%cap(recs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestTwoHandlesConcurrentWriters opens the same file twice, as two processes
// would: writers on different handles are not serialised in Go, so this
// exercises SQLite's locking and the busy timeout.
func TestTwoHandlesConcurrentWriters(t *testing.T) {
	t.Parallel()
	db1, path := openTemp(t)
	db2, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		db := db1
		if w%2 == 1 {
			db = db2
		}
		wg.Go(func() {
			for i := range perWriter {
				r := &store.Record{Key: fmt.Sprintf("w%d-%d", w, i), Kind: "x", Attrs: []store.Attr{{Name: "w", Value: "v"}}}
				if err := store.Create(t.Context(), db, r); err != nil {
					errs <- fmt.Errorf("writer %d create %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, db := range []*sqlite.DB{db1, db2} {
		if n, err := db.Count(t.Context(), "x", ""); err != nil || n != writers*perWriter {
			t.Errorf("count = %d, %v; want %d", n, err, writers*perWriter)
		}
	}
}
