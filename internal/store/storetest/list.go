package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stagecast/stagecast/internal/store"
)

func testList(t *testing.T, s store.Store) {
	a := func(n, v string) store.Attr { return store.Attr{Name: n, Value: v} }
	for _, r := range []*store.Record{
		{Key: "ch1", Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc1"), a("type", "STANDARD")}},
		{Key: "ch2", Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc2"), a("type", "BASIC")}},
		{Key: "ch3", Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc1"), a("type", "BASIC")}},
		{Key: "ch4", Kind: store.KindChannel},
		{Key: "sk1", Kind: store.KindStreamKey, Parent: "ch1", Attrs: []store.Attr{a("rc", "rc1")}},
		{Key: "sk2", Kind: store.KindStreamKey, Parent: "ch2"},
		{Key: "sk3", Kind: store.KindStreamKey, Parent: "ch1"},
		{Key: "ss1", Kind: store.KindStreamSession, Parent: "ch1"},
		{Key: "cmp1", Kind: store.KindComposition, Attrs: []store.Attr{a("dest", "d1"), a("dest", "d2")}},
		{Key: "cmp2", Kind: store.KindComposition, Attrs: []store.Attr{a("dest", "d2"), a("dest", "d3")}},
	} {
		mustCreate(t, s, r)
	}
	tests := []struct {
		name string
		q    store.Query
		want []string
		more bool
	}{
		{"kind", store.Query{Kind: store.KindChannel}, []string{"ch1", "ch2", "ch3", "ch4"}, false},
		{"empty kind", store.Query{Kind: store.KindStage}, nil, false},
		{"parent", store.Query{Kind: store.KindStreamKey, Parent: "ch1"}, []string{"sk1", "sk3"}, false},
		{"parent other kind", store.Query{Kind: store.KindStreamSession, Parent: "ch1"}, []string{"ss1"}, false},
		{"parent none", store.Query{Kind: store.KindStreamKey, Parent: "ch4"}, nil, false},
		{"attr", store.Query{Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc1")}}, []string{"ch1", "ch3"}, false},
		{"attr kind scoped", store.Query{Kind: store.KindStreamKey, Attrs: []store.Attr{a("rc", "rc1")}}, []string{"sk1"}, false},
		{"two attrs", store.Query{Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc1"), a("type", "BASIC")}}, []string{"ch3"}, false},
		{"attrs no match", store.Query{Kind: store.KindChannel, Attrs: []store.Attr{a("rc", "rc2"), a("type", "STANDARD")}}, nil, false},
		{"attr value case", store.Query{Kind: store.KindChannel, Attrs: []store.Attr{a("type", "basic")}}, nil, false},
		{"repeated name", store.Query{Kind: store.KindComposition, Attrs: []store.Attr{a("dest", "d2")}}, []string{"cmp1", "cmp2"}, false},
		{"repeated name both", store.Query{Kind: store.KindComposition, Attrs: []store.Attr{a("dest", "d1"), a("dest", "d2")}}, []string{"cmp1"}, false},
		{"repeated name one", store.Query{Kind: store.KindComposition, Attrs: []store.Attr{a("dest", "d3")}}, []string{"cmp2"}, false},
		{"parent and attr", store.Query{Kind: store.KindStreamKey, Parent: "ch1", Attrs: []store.Attr{a("rc", "rc1")}}, []string{"sk1"}, false},
		{"limit", store.Query{Kind: store.KindChannel, Limit: 2}, []string{"ch1", "ch2"}, true},
		{"limit exact", store.Query{Kind: store.KindChannel, Limit: 4}, []string{"ch1", "ch2", "ch3", "ch4"}, false},
		{"limit above", store.Query{Kind: store.KindChannel, Limit: 10}, []string{"ch1", "ch2", "ch3", "ch4"}, false},
		{"descending", store.Query{Kind: store.KindChannel, Descending: true}, []string{"ch4", "ch3", "ch2", "ch1"}, false},
		{"descending attr limit", store.Query{Kind: store.KindChannel, Attrs: []store.Attr{a("type", "BASIC")}, Descending: true, Limit: 1}, []string{"ch3"}, true},
	}
	for _, tt := range tests {
		p, err := s.List(ctx(t), tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := keys(p.Records); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
		if p.More != tt.more {
			t.Errorf("%s: more = %v, want %v", tt.name, p.More, tt.more)
		}
		for _, r := range p.Records {
			CheckRecord(t, r, mustGet(t, s, r.Key))
		}
	}
}

// seed creates n records of kind "item" and returns their Seqs in order.
func seed(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	seqs := make([]int64, 0, n)
	for i := range n {
		r := mustCreate(t, s, &store.Record{Key: fmt.Sprintf("item-%03d", i), Kind: "item"})
		seqs = append(seqs, r.Seq)
		if i%3 == 0 { // interleave another kind so that Seqs have gaps
			mustCreate(t, s, &store.Record{Key: fmt.Sprintf("other-%03d", i), Kind: "other"})
		}
	}
	return seqs
}

func testListPagination(t *testing.T, s store.Store) {
	seqs := seed(t, s, 250)
	tests := []struct {
		limit     int
		wantPages []int
	}{
		{100, []int{100, 100, 50}},
		{125, []int{125, 125}},
		{250, []int{250}},
		{1, nil}, // 250 pages of 1
		{0, []int{250}},
	}
	for _, tt := range tests {
		var (
			got   []int64
			sizes []int
			after int64
		)
		for page := 0; ; page++ {
			if page > 300 {
				t.Fatalf("limit %d: too many pages", tt.limit)
			}
			p, err := s.List(ctx(t), store.Query{Kind: "item", AfterSeq: after, Limit: tt.limit})
			if err != nil {
				t.Fatalf("limit %d page %d: %v", tt.limit, page, err)
			}
			sizes = append(sizes, len(p.Records))
			for _, r := range p.Records {
				got = append(got, r.Seq)
			}
			if !p.More {
				break
			}
			if len(p.Records) == 0 {
				t.Fatalf("limit %d page %d: empty page with More", tt.limit, page)
			}
			after = p.Records[len(p.Records)-1].Seq
		}
		if !slices.Equal(got, seqs) {
			t.Errorf("limit %d: walked %d records, want the %d created in order", tt.limit, len(got), len(seqs))
		}
		if tt.wantPages != nil && !slices.Equal(sizes, tt.wantPages) {
			t.Errorf("limit %d: page sizes %v, want %v", tt.limit, sizes, tt.wantPages)
		}
	}

	// An anchor need not be the Seq of a matching record.
	p, err := s.List(ctx(t), store.Query{Kind: "item", AfterSeq: seqs[9] + 1, Limit: 1})
	if err != nil || len(p.Records) != 1 || p.Records[0].Seq != seqs[10] {
		t.Errorf("anchor between records: got %v, %v; want seq %d", p.Records, err, seqs[10])
	}
	p, err = s.List(ctx(t), store.Query{Kind: "item", AfterSeq: seqs[249]})
	if err != nil || len(p.Records) != 0 || p.More {
		t.Errorf("anchor at end: got %d records, more %v, %v", len(p.Records), p.More, err)
	}
}

func testListDescending(t *testing.T, s store.Store) {
	seqs := seed(t, s, 250)
	want := slices.Clone(seqs)
	slices.Reverse(want)

	var got []int64
	var sizes []int
	var after int64
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("too many pages")
		}
		p, err := s.List(ctx(t), store.Query{Kind: "item", AfterSeq: after, Limit: 100, Descending: true})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Records))
		for _, r := range p.Records {
			got = append(got, r.Seq)
		}
		if !p.More {
			break
		}
		after = p.Records[len(p.Records)-1].Seq
	}
	if !slices.Equal(got, want) {
		t.Errorf("descending walk: got %d records, want the %d created newest first", len(got), len(want))
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("descending page sizes %v, want [100 100 50]", sizes)
	}

	p, err := s.List(ctx(t), store.Query{Kind: "item", AfterSeq: seqs[5], Descending: true})
	if err != nil {
		t.Fatal(err)
	}
	if g := keys(p.Records); !slices.Equal(g, []string{"item-004", "item-003", "item-002", "item-001", "item-000"}) || p.More {
		t.Errorf("descending before item-005: got %v more %v", g, p.More)
	}
}

func testCount(t *testing.T, s store.Store) {
	for i := range 5 {
		mustCreate(t, s, record(fmt.Sprintf("st%d", i), store.KindStage))
	}
	for i := range 3 {
		mustCreate(t, s, &store.Record{Key: fmt.Sprintf("st0/p%d", i), Kind: store.KindParticipant, Parent: "st0"})
	}
	mustCreate(t, s, &store.Record{Key: "st1/p0", Kind: store.KindParticipant, Parent: "st1"})
	mustCreate(t, s, &store.Record{Key: "st0/s0", Kind: store.KindStageSession, Parent: "st0"})
	tests := []struct {
		kind   store.Kind
		parent string
		want   int
	}{
		{store.KindStage, "", 5},
		{store.KindParticipant, "", 4},
		{store.KindParticipant, "st0", 3},
		{store.KindParticipant, "st1", 1},
		{store.KindParticipant, "st2", 0},
		{store.KindStageSession, "st0", 1},
		{store.KindChannel, "", 0},
		{store.KindStage, "st0", 0},
	}
	for _, tt := range tests {
		n, err := s.Count(ctx(t), tt.kind, tt.parent)
		if err != nil || n != tt.want {
			t.Errorf("count(%s, %q) = %d, %v; want %d", tt.kind, tt.parent, n, err, tt.want)
		}
	}
}

func testApplyAtomic(t *testing.T, s store.Store) {
	existing := mustCreate(t, s, &store.Record{Key: "existing", Kind: "internal", Lookup: "taken", Data: []byte("old")})
	tests := []struct {
		name string
		ops  func() []store.Op
		want error
	}{
		{"create then duplicate key", func() []store.Op {
			return []store.Op{
				{Type: store.OpCreate, Record: record("new", "internal")},
				{Type: store.OpCreate, Record: record("existing", "internal")},
			}
		}, store.ErrExists},
		{"create then duplicate lookup", func() []store.Op {
			return []store.Op{
				{Type: store.OpCreate, Record: record("new", "internal")},
				{Type: store.OpCreate, Record: &store.Record{Key: "new2", Kind: "internal", Lookup: "taken"}},
			}
		}, store.ErrExists},
		{"create then update missing", func() []store.Op {
			return []store.Op{
				{Type: store.OpCreate, Record: record("new", "internal")},
				{Type: store.OpUpdate, Record: &store.Record{Key: "missing", Kind: "internal", Version: 1}},
			}
		}, store.ErrNotFound},
		{"put then stale update", func() []store.Op {
			return []store.Op{
				{Type: store.OpPut, Record: &store.Record{Key: "existing", Kind: "internal", Data: []byte("put")}},
				{Type: store.OpUpdate, Record: &store.Record{Key: "existing", Kind: "internal", Version: 1}},
			}
		}, store.ErrStale},
		{"delete then delete missing", func() []store.Op {
			return []store.Op{
				{Type: store.OpDelete, Key: "existing"},
				{Type: store.OpDelete, Key: "missing"},
			}
		}, store.ErrNotFound},
		{"create twice in batch", func() []store.Op {
			return []store.Op{
				{Type: store.OpCreate, Record: record("new", "internal")},
				{Type: store.OpCreate, Record: record("new", "internal")},
			}
		}, store.ErrExists},
	}
	for _, tt := range tests {
		ops := tt.ops()
		before := make([]store.Record, len(ops))
		for i, op := range ops {
			if op.Record != nil {
				before[i] = *op.Record
			}
		}
		err := s.Apply(ctx(t), ops...)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
		wantMissing(t, s, "new")
		CheckRecord(t, mustGet(t, s, "existing"), existing)
		for i, op := range ops {
			if op.Record != nil && (op.Record.Seq != before[i].Seq || op.Record.Version != before[i].Version ||
				!op.Record.CreatedAt.Equal(before[i].CreatedAt)) {
				t.Errorf("%s: op %d: failed batch wrote back seq %d version %d created at %v", tt.name, i,
					op.Record.Seq, op.Record.Version, op.Record.CreatedAt)
			}
		}
	}
	if n, err := s.Count(ctx(t), "internal", ""); err != nil || n != 1 {
		t.Errorf("count after failed batches: %d, %v; want 1", n, err)
	}
}

func testApplyBatch(t *testing.T, s store.Store) {
	if err := s.Apply(ctx(t)); err != nil {
		t.Fatalf("empty apply: %v", err)
	}
	mustCreate(t, s, record("old", "internal"))
	old := mustGet(t, s, "old")
	stage := &store.Record{Key: "stage", Kind: store.KindStage}
	sess := &store.Record{Key: "stage/session", Kind: store.KindStageSession, Parent: "stage"}
	old.Data = []byte("updated")
	put := &store.Record{Key: "put", Kind: "internal"}
	err := s.Apply(ctx(t),
		store.Op{Type: store.OpCreate, Record: stage},
		store.Op{Type: store.OpCreate, Record: sess},
		store.Op{Type: store.OpUpdate, Record: old},
		store.Op{Type: store.OpPut, Record: put},
	)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if stage.Seq == 0 || sess.Seq <= stage.Seq || put.Seq <= sess.Seq || old.Version != 2 || put.Version != 1 {
		t.Errorf("write-back: stage %d, session %d, put %d/%d, old version %d", stage.Seq, sess.Seq, put.Seq, put.Version, old.Version)
	}
	for _, r := range []*store.Record{stage, sess, old, put} {
		CheckRecord(t, mustGet(t, s, r.Key), r)
	}
	// Create and delete in one batch; delete of a record created earlier in it.
	if err := s.Apply(ctx(t),
		store.Op{Type: store.OpCreate, Record: record("tmp", "internal")},
		store.Op{Type: store.OpDelete, Key: "tmp"},
		store.Op{Type: store.OpDelete, Key: "stage"},
	); err != nil {
		t.Fatalf("apply create+delete: %v", err)
	}
	wantMissing(t, s, "tmp")
	wantMissing(t, s, "stage/session")
}

func testApplyInvalid(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		op   store.Op
	}{
		{"nil record", store.Op{Type: store.OpCreate}},
		{"empty key", store.Op{Type: store.OpCreate, Record: &store.Record{Kind: "internal"}}},
		{"unknown type", store.Op{Type: 99, Record: record("x", "internal")}},
		{"zero type", store.Op{Record: record("x", "internal")}},
	}
	for _, tt := range tests {
		err := s.Apply(ctx(t), store.Op{Type: store.OpCreate, Record: record("ok", "internal")}, tt.op)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
		}
		wantMissing(t, s, "ok")
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	seqs := make([][]int64, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				r := &store.Record{
					Key: fmt.Sprintf("w%d-%d", w, i), Kind: "concurrent", Parent: fmt.Sprintf("w%d", w),
					Lookup: fmt.Sprintf("l%d-%d", w, i), Attrs: []store.Attr{{Name: "writer", Value: fmt.Sprint(w)}},
				}
				if err := store.Create(ctx(t), s, r); err != nil {
					errs <- fmt.Errorf("writer %d create %d: %w", w, i, err)
					return
				}
				seqs[w] = append(seqs[w], r.Seq)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := slices.Concat(seqs...)
	slices.Sort(all)
	if len(slices.Compact(all)) != writers*perWriter {
		t.Errorf("got %d distinct seqs, want %d", len(slices.Compact(all)), writers*perWriter)
	}
	for w := range writers {
		if !slices.IsSorted(seqs[w]) {
			t.Errorf("writer %d: seqs not increasing", w)
		}
	}
	if n, err := s.Count(ctx(t), "concurrent", ""); err != nil || n != writers*perWriter {
		t.Errorf("count = %d, %v; want %d", n, err, writers*perWriter)
	}
	p, err := s.List(ctx(t), store.Query{Kind: "concurrent", Attrs: []store.Attr{{Name: "writer", Value: "3"}}})
	if err != nil || len(p.Records) != perWriter {
		t.Errorf("list writer 3: %d records, %v", len(p.Records), err)
	}
}

func testConcurrentReadWrite(t *testing.T, s store.Store) {
	mustCreate(t, s, &store.Record{Key: "counter", Kind: "internal", Data: []byte("0")})
	const updaters, perUpdater = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, updaters+4)
	// Updaters increment with optimistic retries while readers read.
	for u := range updaters {
		wg.Go(func() {
			for done := 0; done < perUpdater; {
				cur, err := s.Get(ctx(t), "counter")
				if err != nil {
					errs <- err
					return
				}
				n, err := strconv.Atoi(string(cur.Data))
				if err != nil {
					errs <- fmt.Errorf("updater %d: counter %q: %w", u, cur.Data, err)
					return
				}
				cur.Data = fmt.Appendf(nil, "%d", n+1)
				err = store.Update(ctx(t), s, cur)
				switch {
				case errors.Is(err, store.ErrStale):
				case err != nil:
					errs <- fmt.Errorf("updater %d: %w", u, err)
					return
				default:
					done++
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Get(ctx(t), "counter"); err != nil {
					errs <- err
					return
				}
				if _, err := s.List(ctx(t), store.Query{Kind: "internal", Limit: 10}); err != nil {
					errs <- err
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
	got := mustGet(t, s, "counter")
	if want := fmt.Sprint(updaters * perUpdater); string(got.Data) != want || got.Version != int64(updaters*perUpdater+1) {
		t.Errorf("counter = %s version %d, want %s version %d", got.Data, got.Version, want, updaters*perUpdater+1)
	}
}
