// Package sqlite is the default [store.Store] backend: every record lives in
// one SQLite database file, opened with [Open].
//
// It owns the database file (created with mode 0600, as are its -wal and
// -shm companions, in a directory created with mode 0700) and its schema,
// which Open brings up to date from the embedded goose migrations in
// migrations/. The database runs in WAL mode: readers never wait for the
// writer and run concurrently on a small connection pool. Writes ([DB.Apply])
// are serialised inside the process and each runs in one BEGIN IMMEDIATE
// transaction; a busy timeout makes them wait for writers in other processes.
//
// A record's attributes and tags are stored as JSON beside it, so reads touch
// one table; attributes are also copied into an indexed table that List
// filters use. CreatedAt is stored with nanosecond precision and read back
// in UTC.
//
// The package starts no goroutines of its own (the database/sql pool and the
// driver manage their connections). Every method of [DB] blocks until the
// database answers or its context is done; Apply may also wait for another
// Apply of the same DB to finish. DB is safe for concurrent use.
package sqlite
