package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stagecast/stagecast/internal/store"
)

// maxListStmts bounds the cache of prepared List statements (one per query
// shape: parent or not, anchor or not, direction, limit or not, number of
// attribute filters). Shapes beyond it run unprepared.
const maxListStmts = 64

// Get returns the record with that key, or an error wrapping
// [store.ErrNotFound].
func (d *DB) Get(ctx context.Context, key string) (*store.Record, error) {
	r, err := scanRecord(d.getStmt.QueryRowContext(ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return r, nil
}

// GetByLookup returns the record of that kind with that lookup key, or an
// error wrapping [store.ErrNotFound].
func (d *DB) GetByLookup(ctx context.Context, kind store.Kind, lookup string) (*store.Record, error) {
	if lookup == "" {
		// "" means "no lookup key"; no record can be found by it.
		return nil, fmt.Errorf("get %s by empty lookup: %w", kind, store.ErrNotFound)
	}
	r, err := scanRecord(d.getByLookupStmt.QueryRowContext(ctx, string(kind), lookup))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get %s by lookup: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s by lookup: %w", kind, err)
	}
	return r, nil
}

// Count returns how many records of that kind exist, only counting direct
// children of parent when parent is not "".
func (d *DB) Count(ctx context.Context, kind store.Kind, parent string) (int, error) {
	var row *sql.Row
	if parent == "" {
		row = d.countStmt.QueryRowContext(ctx, string(kind))
	} else {
		row = d.countParentStmt.QueryRowContext(ctx, string(kind), parent)
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", kind, err)
	}
	return n, nil
}

// List returns one page of the records matching q, in Seq order (decreasing
// when q.Descending). q.Kind is required.
func (d *DB) List(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Kind == "" {
		return store.Page{}, errors.New("list: kind is required")
	}
	if q.Limit < 0 {
		return store.Page{}, fmt.Errorf("list %s: negative limit %d", q.Kind, q.Limit)
	}
	query, args := listSQL(q)
	rows, err := d.queryList(ctx, query, args)
	if err != nil {
		return store.Page{}, fmt.Errorf("list %s: %w", q.Kind, err)
	}
	defer rows.Close()

	var page store.Page
	if q.Limit > 0 {
		page.Records = make([]*store.Record, 0, min(q.Limit, 128))
	}
	for rows.Next() {
		if q.Limit > 0 && len(page.Records) == q.Limit {
			// The extra row fetched beyond the limit.
			page.More = true
			break
		}
		r, err := scanRecord(rows)
		if err != nil {
			return store.Page{}, fmt.Errorf("list %s: %w", q.Kind, err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("list %s: %w", q.Kind, err)
	}
	return page, nil
}

// listSQL builds the SELECT for q. The text depends only on the shape of q,
// not on its values, so that it can be prepared once per shape.
func listSQL(q store.Query) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 4+2*len(q.Attrs))
	b.WriteString("SELECT ")
	b.WriteString(recordColumns)
	b.WriteString(" FROM resources WHERE kind = ?")
	args = append(args, string(q.Kind))
	if q.Parent != "" {
		b.WriteString(" AND parent = ?")
		args = append(args, q.Parent)
	}
	for i, a := range q.Attrs {
		b.WriteString(" AND seq IN (SELECT seq FROM attrs WHERE name = ? AND value = ?")
		args = append(args, a.Name, a.Value)
		if i == 0 && q.AfterSeq > 0 {
			// Narrow the attrs index range scanned for the first filter too.
			if q.Descending {
				b.WriteString(" AND seq < ?")
			} else {
				b.WriteString(" AND seq > ?")
			}
			args = append(args, q.AfterSeq)
		}
		b.WriteString(")")
	}
	if q.Descending {
		if q.AfterSeq > 0 {
			b.WriteString(" AND seq < ?")
			args = append(args, q.AfterSeq)
		}
		b.WriteString(" ORDER BY seq DESC")
	} else {
		if q.AfterSeq > 0 {
			// Seq starts at 1, so AfterSeq <= 0 keeps everything.
			b.WriteString(" AND seq > ?")
			args = append(args, q.AfterSeq)
		}
		b.WriteString(" ORDER BY seq")
	}
	if q.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, q.Limit+1) // one more, to tell whether there are more
	}
	return b.String(), args
}

// queryList runs a List query with a statement prepared once per query text.
func (d *DB) queryList(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	d.listStmtsMu.RLock()
	st, ok := d.listStmts[query]
	d.listStmtsMu.RUnlock()
	if ok {
		return st.QueryContext(ctx, args...)
	}

	d.listStmtsMu.Lock()
	if st, ok = d.listStmts[query]; !ok && d.listStmts != nil && len(d.listStmts) < maxListStmts {
		var err error
		if st, err = d.db.PrepareContext(ctx, query); err != nil {
			d.listStmtsMu.Unlock()
			return nil, err
		}
		d.listStmts[query] = st
		ok = true
	}
	d.listStmtsMu.Unlock()
	if ok {
		return st.QueryContext(ctx, args...)
	}
	return d.db.QueryContext(ctx, query, args...)
}
