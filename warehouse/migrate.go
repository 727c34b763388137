package warehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrChecksumMismatch is returned by Migrate when a migration recorded as applied no longer has the
// checksum it was applied with: someone edited a file that had shipped. Add a new migration instead.
var ErrChecksumMismatch = errors.New("applied migration has changed")

// Migrate creates cfg.Database if needed and applies every embedded migration that is not yet
// recorded in its schema_migrations table, once each and in version order, returning the versions
// it applied (none when the schema is current). Several processes may call it at once: they take
// turns through a lock table, so each migration runs once. It refuses to run when an applied
// migration's file has changed (ErrChecksumMismatch). Statements must be idempotent (CREATE … IF
// NOT EXISTS): a migration that failed half-way is retried whole by the next run.
func Migrate(ctx context.Context, cfg Config, log *slog.Logger) (applied []int, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := open(ctx, cfg, "default")
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	db := QuoteIdent(cfg.Database)
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db); err != nil && !isCode(err, codeDatabaseAlreadyExists) {
		return nil, fmt.Errorf("create database %s: %w", cfg.Database, err)
	}
	lk, err := acquireLock(ctx, conn, cfg.Database, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := lk.release(ctx); rerr != nil && err == nil {
			err = rerr
		}
	}()

	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+db+`.schema_migrations (
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime
) ENGINE = MergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("create %s.schema_migrations: %w", cfg.Database, err)
	}
	done, err := appliedMigrations(ctx, conn, db)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", cfg.Database, err)
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
		rec, ok := done[m.Version]
		if ok && rec.checksum != m.Checksum {
			return nil, fmt.Errorf("database %s: migration %d (%s, applied as %s) checksum %.12s…, file now %.12s…: %w",
				cfg.Database, m.Version, m.Name, rec.name, rec.checksum, m.Checksum, ErrChecksumMismatch)
		}
	}
	for v, rec := range done {
		if !known[v] {
			log.Warn("database has a migration this binary does not know; it was written by a newer version",
				"database", cfg.Database, "version", v, "name", rec.name)
		}
	}
	for _, m := range ms {
		if _, ok := done[m.Version]; ok {
			continue
		}
		start := time.Now()
		if err := applyMigration(ctx, conn, cfg.Database, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
		log.Info("applied migration", "database", cfg.Database, "version", m.Version, "name", m.Name,
			"seconds", time.Since(start).Seconds())
	}
	return applied, nil
}

type migrationRecord struct{ name, checksum string }

func appliedMigrations(ctx context.Context, conn driver.Conn, db string) (map[int]migrationRecord, error) {
	rows, err := conn.Query(ctx, "SELECT version, name, checksum FROM "+db+".schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]migrationRecord{}
	for rows.Next() {
		var v uint32
		var rec migrationRecord
		if err := rows.Scan(&v, &rec.name, &rec.checksum); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		if prev, dup := out[int(v)]; dup && prev != rec {
			return nil, fmt.Errorf("schema_migrations has two different rows for version %d", v)
		}
		out[int(v)] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return out, nil
}

func applyMigration(ctx context.Context, conn driver.Conn, database string, m Migration) error {
	for i, stmt := range m.Statements(database) {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s statement %d: %w", m.Name, i+1, err)
		}
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+QuoteIdent(database)+".schema_migrations (version, name, checksum, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := b.Append(uint32(m.Version), m.Name, m.Checksum, time.Now()); err != nil {
		_ = b.Abort()
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	return nil
}
