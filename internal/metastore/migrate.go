package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Schema is the set of migrations one package owns. FS holds, in directory Dir ("" or "." for
// its root), files named NNNN_title.sql (portable SQL run on every dialect) or, where the
// dialects differ, both NNNN_title.sqlite.sql and NNNN_title.postgres.sql. NNNN is the version,
// from 0001 up; a version once released is never edited, only followed by a new one. Each
// version runs once per database and is recorded in the table citypulse_schema_migrations.
type Schema struct {
	// Name identifies the schema in the bookkeeping table, e.g. "tracking_plan". Keep it stable.
	Name string
	FS   fs.FS
	Dir  string
}

// Migration is one version of a Schema, as read for the Store's dialect.
type Migration struct {
	Version int
	Title   string
	SQL     string
}

// ErrSchemaTooNew means the database holds a migration of a schema that this binary does not
// know: a newer CityPulse migrated it. Upgrade the binary rather than run against it.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

const (
	migrationsTable       = "citypulse_schema_migrations"
	migrateLock           = "migrate"
	createMigrationsTable = `CREATE TABLE IF NOT EXISTS citypulse_schema_migrations (
    schema_name TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    applied_at  BIGINT  NOT NULL,
    PRIMARY KEY (schema_name, version)
)`
)

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$`)

// Migrations reads sc's migrations for dialect d, in version order, checking that the files
// form a usable set: well-named, one portable file or both dialect files per version, no gaps.
func Migrations(sc Schema, d Dialect) ([]Migration, error) {
	if sc.Name == "" {
		return nil, errors.New("metastore: schema without a name")
	}
	dir := sc.Dir
	if dir == "" {
		dir = "."
	}
	entries, err := fs.ReadDir(sc.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("metastore: schema %s: read migrations: %w", sc.Name, err)
	}
	type files struct{ title, portable, sqlite, postgres string }
	byVersion := map[int]*files{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("metastore: schema %s: %s: want NNNN_title.sql, NNNN_title.sqlite.sql or NNNN_title.postgres.sql (title in a-z, 0-9, _)", sc.Name, e.Name())
		}
		v, _ := strconv.Atoi(m[1]) // four digits
		f := byVersion[v]
		if f == nil {
			f = &files{title: m[2]}
			byVersion[v] = f
		}
		if f.title != m[2] {
			return nil, fmt.Errorf("metastore: schema %s: version %04d has two titles, %s and %s", sc.Name, v, f.title, m[2])
		}
		slot := map[string]*string{"": &f.portable, "sqlite": &f.sqlite, "postgres": &f.postgres}[m[3]]
		*slot = e.Name()
	}
	last := 0
	for v := range byVersion {
		last = max(last, v)
	}
	out := make([]Migration, 0, len(byVersion))
	for v := 1; v <= last; v++ {
		f := byVersion[v]
		if f == nil {
			return nil, fmt.Errorf("metastore: schema %s: version %04d is missing (versions must run 0001, 0002, … without gaps)", sc.Name, v)
		}
		var name string
		switch {
		case f.portable != "" && (f.sqlite != "" || f.postgres != ""):
			return nil, fmt.Errorf("metastore: schema %s: version %04d has both a portable file and dialect files; keep one kind", sc.Name, v)
		case f.portable != "":
			name = f.portable
		case f.sqlite == "" || f.postgres == "":
			return nil, fmt.Errorf("metastore: schema %s: version %04d needs both a .sqlite.sql and a .postgres.sql file", sc.Name, v)
		case d == SQLite:
			name = f.sqlite
		default:
			name = f.postgres
		}
		b, err := fs.ReadFile(sc.FS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("metastore: schema %s: %w", sc.Name, err)
		}
		out = append(out, Migration{Version: v, Title: f.title, SQL: string(b)})
	}
	return out, nil
}

// Migrate applies the migrations of sc that the database has not recorded yet, with their
// bookkeeping rows, in one transaction (all or none) under a lock, so that processes starting
// together apply each version once. It returns how many it applied. A database that records a version
// of sc this binary does not have fails with ErrSchemaTooNew.
func (s *Store) Migrate(ctx context.Context, sc Schema) (applied int, err error) {
	migs, err := Migrations(sc, s.dialect)
	if err != nil {
		return 0, err
	}
	err = s.LockedTx(ctx, migrateLock, func(tx *sql.Tx) error {
		var current int
		if err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(MAX(version), 0) FROM citypulse_schema_migrations WHERE schema_name = $1`,
			sc.Name).Scan(&current); err != nil {
			return fmt.Errorf("metastore: schema %s: read applied versions: %w", sc.Name, err)
		}
		if current > len(migs) {
			return fmt.Errorf("metastore: schema %s is at version %d, this binary knows up to %d: %w", sc.Name, current, len(migs), ErrSchemaTooNew)
		}
		for _, m := range migs[current:] {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("metastore: schema %s: apply %04d_%s: %w", sc.Name, m.Version, m.Title, err)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO citypulse_schema_migrations (schema_name, version, title, applied_at) VALUES ($1, $2, $3, $4)`,
				sc.Name, m.Version, m.Title, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("metastore: schema %s: record %04d_%s: %w", sc.Name, m.Version, m.Title, err)
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return applied, nil
}

// AppliedMigration is one row of the bookkeeping table.
type AppliedMigration struct {
	Schema    string
	Version   int
	Title     string
	AppliedAt time.Time
}

// Applied lists the migrations recorded in the database, by schema then version.
func (s *Store) Applied(ctx context.Context) ([]AppliedMigration, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT schema_name, version, title, applied_at FROM citypulse_schema_migrations ORDER BY schema_name, version`)
	if err != nil {
		return nil, fmt.Errorf("metastore: list migrations: %w", err)
	}
	defer rows.Close()
	var out []AppliedMigration
	for rows.Next() {
		var a AppliedMigration
		var ms int64
		if err := rows.Scan(&a.Schema, &a.Version, &a.Title, &ms); err != nil {
			return nil, fmt.Errorf("metastore: list migrations: %w", err)
		}
		a.AppliedAt = time.UnixMilli(ms).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("metastore: list migrations: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Schema != out[j].Schema {
			return out[i].Schema < out[j].Schema
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}
