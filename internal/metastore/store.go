package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is an open metadata database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
}

// Open connects to the database cfg.DSN names, creating a SQLite file (and its directory) when
// missing, and makes sure the migration bookkeeping table exists. The caller closes the Store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	dialect, dsn, err := cfg.driver()
	if err != nil {
		return nil, err
	}
	driverName, maxConns := "pgx", 16
	if dialect == SQLite {
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("metastore: create directory for %s: %w", dsn, err)
			}
		}
		// One writer at a time is SQLite's rule anyway; a few connections serve readers.
		driverName, dsn, maxConns = "sqlite", dsn+"?"+sqliteParams, 8
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("metastore: open %s: %w", redact(cfg.DSN), err)
	}
	db.SetMaxOpenConns(maxConns)
	s := &Store{db: db, dialect: dialect}
	if err := ping(ctx, db, dialect); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("metastore: connect %s: %w", redact(cfg.DSN), err)
	}
	if err := s.LockedTx(ctx, migrateLock, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("metastore: create %s: %w", migrationsTable, err)
	}
	return s, nil
}

// connectRetry bounds how long ping retries a busy SQLite database.
const connectRetry = 5 * time.Second

// ping connects, retrying while SQLite answers SQLITE_BUSY: switching a new database file to WAL
// needs a moment of exclusive access, and a second process connecting at that moment gets
// SQLITE_BUSY at once, without the busy timeout being applied.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(connectRetry)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || dialect != SQLite || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("metastore: close: %w", err)
	}
	return nil
}

// DB is the database, for the repositories built on the Store. Write portable SQL with $1, $2…
// placeholders; where the dialects differ, switch on Dialect.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect says which database the Store speaks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Tx runs fn in a transaction, committing when fn returns nil and rolling back otherwise. On
// SQLite the transaction holds the database's write lock from its start (BEGIN IMMEDIATE), so
// read-then-write transactions never fail halfway with "database is locked"; other writers wait
// up to the busy timeout.
func (s *Store) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("metastore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that matters is fn's
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("metastore: commit: %w", err)
	}
	return nil
}

// LockedTx is Tx, serialised with every other LockedTx of the same lock name in any process
// using the same database: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by
// the write lock every transaction takes. Use it for read-modify-write sequences such as "next
// version number".
func (s *Store) LockedTx(ctx context.Context, lock string, fn func(*sql.Tx) error) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(lock)); err != nil {
				return fmt.Errorf("metastore: lock %s: %w", lock, err)
			}
		}
		return fn(tx)
	})
}

// lockKey maps a lock name to PostgreSQL's 64-bit advisory lock key space.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("citypulse.metastore." + name)) // hash writes never fail
	return int64(h.Sum64())
}
