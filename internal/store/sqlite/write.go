package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stagecast/stagecast/internal/store"
)

// written is what Apply copies back into a caller's Record once the
// transaction has committed.
type written struct {
	r         *store.Record
	seq       int64
	version   int64
	createdAt time.Time
}

// Apply runs ops in one transaction: all of them take effect or none does.
// Errors wrap [store.ErrExists], [store.ErrNotFound] or [store.ErrStale] as
// documented on [store.OpType]. Only after the commit are the Seq, Version
// and CreatedAt fields of the records of OpCreate, OpUpdate and OpPut set;
// on error the records are left as they were.
func (d *DB) Apply(ctx context.Context, ops ...store.Op) error {
	if len(ops) == 0 {
		return nil
	}
	for i, op := range ops {
		if err := validate(op); err != nil {
			return fmt.Errorf("apply op %d: %w", i, err)
		}
	}

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	// One writer at a time in this process; SQLite allows no more anyway.
	select {
	case d.writeSem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("apply: %w", ctx.Err())
	}
	defer func() { <-d.writeSem }()

	tx, err := d.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsnParams)
	if err != nil {
		return fmt.Errorf("apply: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	w := &txWriter{d: d, tx: tx}
	out := make([]written, 0, len(ops))
	for _, op := range ops {
		var err error
		switch op.Type {
		case store.OpCreate:
			err = w.create(ctx, op.Record, &out)
		case store.OpUpdate:
			err = w.update(ctx, op.Record, &out)
		case store.OpPut:
			err = w.put(ctx, op.Record, &out)
		case store.OpDelete:
			err = w.delete(ctx, op.Key)
		}
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	for _, o := range out {
		o.r.Seq, o.r.Version, o.r.CreatedAt = o.seq, o.version, o.createdAt
	}
	return nil
}

func validate(op store.Op) error {
	switch op.Type {
	case store.OpCreate, store.OpUpdate, store.OpPut:
		if op.Record == nil {
			return errors.New("nil record")
		}
		if op.Record.Key == "" {
			return errors.New("empty key")
		}
		if op.Record.Kind == "" {
			return fmt.Errorf("record %s: empty kind", op.Record.Key)
		}
	case store.OpDelete:
		if op.Key == "" {
			return errors.New("delete: empty key")
		}
	default:
		return fmt.Errorf("unknown op type %d", op.Type)
	}
	return nil
}

// txWriter runs the statements of one Apply inside its transaction.
type txWriter struct {
	d     *DB
	tx    *sql.Tx
	stmts map[*sql.Stmt]*sql.Stmt
}

// stmt returns the transaction-bound copy of a statement prepared at Open.
func (w *txWriter) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if ts, ok := w.stmts[s]; ok {
		return ts
	}
	if w.stmts == nil {
		w.stmts = make(map[*sql.Stmt]*sql.Stmt)
	}
	ts := w.tx.StmtContext(ctx, s)
	w.stmts[s] = ts
	return ts
}

// columns are the encoded values of a record's writable columns.
type columns struct {
	lookup, attrs, tags any
}

func encode(r *store.Record) (columns, error) {
	var c columns
	var err error
	c.lookup = nullString(r.Lookup)
	if c.attrs, err = encodeAttrs(r.Attrs); err != nil {
		return c, err
	}
	if c.tags, err = encodeTags(r.Tags); err != nil {
		return c, err
	}
	return c, nil
}

func createdAtFor(r *store.Record) (int64, error) {
	t := r.CreatedAt
	if t.IsZero() {
		t = time.Now()
	}
	return encodeTime(t)
}

func (w *txWriter) create(ctx context.Context, r *store.Record, out *[]written) error {
	c, err := encode(r)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Key, err)
	}
	created, err := createdAtFor(r)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Key, err)
	}
	var o written
	var ns int64
	err = w.stmt(ctx, w.d.insertStmt).QueryRowContext(ctx,
		r.Key, string(r.Kind), r.Parent, c.lookup, c.attrs, c.tags, r.Data, created,
	).Scan(&o.seq, &o.version, &ns)
	if err != nil {
		return fmt.Errorf("create %s: %w", r.Key, conflict(err))
	}
	if err := w.insertAttrs(ctx, o.seq, r.Attrs); err != nil {
		return fmt.Errorf("create %s: %w", r.Key, err)
	}
	o.r, o.createdAt = r, decodeTime(ns)
	*out = append(*out, o)
	return nil
}

func (w *txWriter) update(ctx context.Context, r *store.Record, out *[]written) error {
	c, err := encode(r)
	if err != nil {
		return fmt.Errorf("update %s: %w", r.Key, err)
	}
	var o written
	var ns int64
	err = w.stmt(ctx, w.d.updateStmt).QueryRowContext(ctx,
		string(r.Kind), r.Parent, c.lookup, c.attrs, c.tags, r.Data, r.Key, r.Version,
	).Scan(&o.seq, &o.version, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		var current int64
		err := w.stmt(ctx, w.d.versionStmt).QueryRowContext(ctx, r.Key).Scan(&current)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("update %s: %w", r.Key, store.ErrNotFound)
		case err != nil:
			return fmt.Errorf("update %s: %w", r.Key, err)
		default:
			return fmt.Errorf("update %s: version %d, current %d: %w", r.Key, r.Version, current, store.ErrStale)
		}
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", r.Key, conflict(err))
	}
	if err := w.replaceAttrs(ctx, o.seq, r.Attrs); err != nil {
		return fmt.Errorf("update %s: %w", r.Key, err)
	}
	o.r, o.createdAt = r, decodeTime(ns)
	*out = append(*out, o)
	return nil
}

func (w *txWriter) put(ctx context.Context, r *store.Record, out *[]written) error {
	c, err := encode(r)
	if err != nil {
		return fmt.Errorf("put %s: %w", r.Key, err)
	}
	created, err := createdAtFor(r)
	if err != nil {
		return fmt.Errorf("put %s: %w", r.Key, err)
	}
	var o written
	var ns int64
	err = w.stmt(ctx, w.d.putStmt).QueryRowContext(ctx,
		r.Key, string(r.Kind), r.Parent, c.lookup, c.attrs, c.tags, r.Data, created,
	).Scan(&o.seq, &o.version, &ns)
	if err != nil {
		return fmt.Errorf("put %s: %w", r.Key, conflict(err))
	}
	if err := w.replaceAttrs(ctx, o.seq, r.Attrs); err != nil {
		return fmt.Errorf("put %s: %w", r.Key, err)
	}
	o.r, o.createdAt = r, decodeTime(ns)
	*out = append(*out, o)
	return nil
}

func (w *txWriter) delete(ctx context.Context, key string) error {
	res, err := w.stmt(ctx, w.d.deleteStmt).ExecContext(ctx, key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("delete %s: %w", key, store.ErrNotFound)
	}
	return nil
}

func (w *txWriter) replaceAttrs(ctx context.Context, seq int64, attrs []store.Attr) error {
	if _, err := w.stmt(ctx, w.d.deleteAttrsStmt).ExecContext(ctx, seq); err != nil {
		return fmt.Errorf("delete attrs: %w", err)
	}
	return w.insertAttrs(ctx, seq, attrs)
}

func (w *txWriter) insertAttrs(ctx context.Context, seq int64, attrs []store.Attr) error {
	if len(attrs) == 0 {
		return nil
	}
	st := w.stmt(ctx, w.d.insertAttrStmt)
	for _, a := range attrs {
		if _, err := st.ExecContext(ctx, seq, a.Name, a.Value); err != nil {
			return fmt.Errorf("insert attr %s: %w", a.Name, err)
		}
	}
	return nil
}

// conflict turns a UNIQUE violation on resources into store.ErrExists,
// saying which constraint was hit; other errors are returned unchanged.
func conflict(err error) error {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
	default:
		return err
	}
	if strings.Contains(se.Error(), "resources.lookup") {
		return fmt.Errorf("kind and lookup taken: %w", store.ErrExists)
	}
	return fmt.Errorf("key taken: %w", store.ErrExists)
}
