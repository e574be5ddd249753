package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/stagecast/stagecast/internal/store"
)

// dsnParams are the connection parameters every pooled connection gets:
// WAL so that readers never wait for the writer, a busy timeout so that a
// writer in another process makes us wait instead of fail, foreign keys for
// the attrs cascade, and BEGIN IMMEDIATE so that a write transaction takes
// the write lock up front (a deferred transaction that upgrades later can
// fail with SQLITE_BUSY without the busy handler being consulted).
const dsnParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"

// maxConns bounds the connection pool. Reads run concurrently on up to
// maxConns connections; writes are serialised by DB.writeSem anyway.
const maxConns = 8

// fileMode is the permission of the database file and its -wal and -shm
// companions.
const fileMode os.FileMode = 0o600

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a [store.Store] kept in one SQLite file. It is safe for concurrent
// use; see the package documentation.
type DB struct {
	db *sql.DB

	// writeSem (capacity 1) serialises Apply within the process, so writers
	// queue in Go rather than spin in SQLite's busy handler.
	writeSem chan struct{}

	// Statements prepared once at Open.
	getStmt         *sql.Stmt
	getByLookupStmt *sql.Stmt
	countStmt       *sql.Stmt
	countParentStmt *sql.Stmt

	insertStmt      *sql.Stmt
	updateStmt      *sql.Stmt
	putStmt         *sql.Stmt
	versionStmt     *sql.Stmt
	deleteStmt      *sql.Stmt
	insertAttrStmt  *sql.Stmt
	deleteAttrsStmt *sql.Stmt

	// listStmts caches List statements by SQL text (see maxListStmts).
	listStmtsMu sync.RWMutex
	listStmts   map[string]*sql.Stmt
}

var _ store.Store = (*DB)(nil)

// Open opens the SQLite database at path, creating the file (mode 0600) and
// its parent directory (mode 0700) when missing, and brings its schema up to
// date. The returned DB must be closed with Close.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if strings.Contains(abs, "?") {
		// The driver would take what follows '?' as DSN parameters.
		return nil, fmt.Errorf("open sqlite store %s: path must not contain '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite store %s: create directory: %w", path, err)
	}
	// Create the file ourselves so that it never exists with umask-derived
	// permissions; SQLite gives the -wal and -shm files the mode of the
	// database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if err := os.Chmod(abs, fileMode); err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}

	sdb, err := sql.Open("sqlite", abs+"?"+dsnParams)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(maxConns)
	sdb.SetMaxIdleConns(maxConns) // keep connections (and their prepared statements) warm
	sdb.SetConnMaxLifetime(0)
	sdb.SetConnMaxIdleTime(0)

	d := &DB{
		db:        sdb,
		writeSem:  make(chan struct{}, 1),
		listStmts: make(map[string]*sql.Stmt),
	}
	if err := d.init(ctx, abs); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) init(ctx context.Context, path string) error {
	if err := d.db.PingContext(ctx); err != nil {
		return err
	}
	if err := migrate(ctx, d.db); err != nil {
		return err
	}
	// The -wal and -shm files exist now that a connection is open in WAL
	// mode. SQLite already copies the database file's mode; chmod anyway
	// in case they were left behind by an earlier process with another mode.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+suffix, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return d.prepare(ctx)
}

// migrate applies the embedded migrations that the database lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub,
		goose.WithSlog(slog.New(slog.DiscardHandler)),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// p.Close would close db, which we still own: do not call it.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Column list shared by every query that returns whole records; see scanRecord.
const recordColumns = "key, kind, parent, COALESCE(lookup, ''), attrs, tags, data, created_at, seq, version"

func (d *DB) prepare(ctx context.Context) error {
	stmts := []struct {
		dst *(*sql.Stmt)
		sql string
	}{
		{&d.getStmt, "SELECT " + recordColumns + " FROM resources WHERE key = ?"},
		{&d.getByLookupStmt, "SELECT " + recordColumns + " FROM resources WHERE kind = ? AND lookup = ?"},
		{&d.countStmt, "SELECT COUNT(*) FROM resources WHERE kind = ?"},
		{&d.countParentStmt, "SELECT COUNT(*) FROM resources WHERE kind = ? AND parent = ?"},
		{&d.insertStmt, `INSERT INTO resources (key, kind, parent, lookup, attrs, tags, data, created_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
			RETURNING seq, version, created_at`},
		{&d.updateStmt, `UPDATE resources
			SET kind = ?, parent = ?, lookup = ?, attrs = ?, tags = ?, data = ?, version = version + 1
			WHERE key = ? AND version = ?
			RETURNING seq, version, created_at`},
		{&d.putStmt, `INSERT INTO resources (key, kind, parent, lookup, attrs, tags, data, created_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (key) DO UPDATE SET
				kind = excluded.kind, parent = excluded.parent, lookup = excluded.lookup,
				attrs = excluded.attrs, tags = excluded.tags, data = excluded.data,
				version = resources.version + 1
			RETURNING seq, version, created_at`},
		{&d.versionStmt, "SELECT version FROM resources WHERE key = ?"},
		{&d.deleteStmt, `WITH RECURSIVE doomed (key) AS (
				SELECT key FROM resources WHERE key = ?
				UNION
				SELECT r.key FROM resources r JOIN doomed ON r.parent = doomed.key
			)
			DELETE FROM resources WHERE key IN (SELECT key FROM doomed)`},
		{&d.insertAttrStmt, "INSERT INTO attrs (seq, name, value) VALUES (?, ?, ?)"},
		{&d.deleteAttrsStmt, "DELETE FROM attrs WHERE seq = ?"},
	}
	for _, s := range stmts {
		st, err := d.db.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", firstLine(s.sql), err)
		}
		*s.dst = st
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Close releases the prepared statements and the connection pool. Calls
// still running when Close is called may fail.
func (d *DB) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{
		d.getStmt, d.getByLookupStmt, d.countStmt, d.countParentStmt,
		d.insertStmt, d.updateStmt, d.putStmt, d.versionStmt, d.deleteStmt,
		d.insertAttrStmt, d.deleteAttrsStmt,
	} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	d.listStmtsMu.Lock()
	for _, st := range d.listStmts {
		errs = append(errs, st.Close())
	}
	d.listStmts = nil
	d.listStmtsMu.Unlock()
	errs = append(errs, d.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}
