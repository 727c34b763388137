// Package metastoretest gives tests a private metadata store on each supported database: a
// fresh SQLite file always, and a fresh PostgreSQL schema when CITYPULSE_TEST_POSTGRES_DSN names
// a server (make test starts one). Without that variable the PostgreSQL half is skipped on a
// developer's machine and fails when CI=true. It is imported only by tests.
package metastoretest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/testenv"
)

// PostgresDSNEnv names the variable that gives the test PostgreSQL, e.g.
// postgres://citypulse@127.0.0.1:5432/citypulse?sslmode=disable.
const PostgresDSNEnv = "CITYPULSE_TEST_POSTGRES_DSN"

// Each runs fn as two subtests, "sqlite" and "postgres", each with its own empty store.
func Each(t *testing.T, fn func(t *testing.T, s *metastore.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLiteConfig is a Config for a new SQLite file in the test's temporary directory.
func SQLiteConfig(t testing.TB) metastore.Config {
	return metastore.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "meta.db")}
}

// SQLite opens a store on a new SQLite file, closed when the test ends.
func SQLite(t testing.TB) *metastore.Store {
	t.Helper()
	return open(t, SQLiteConfig(t))
}

// PostgresConfig is a Config for a new, empty schema (test_<name>_<random>) on the test
// PostgreSQL, set as the connection's search_path. The schema is dropped when the test ends,
// unless it failed, so its tables can be looked at.
func PostgresConfig(t testing.TB) metastore.Config {
	t.Helper()
	base := os.Getenv(PostgresDSNEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL: %s is not set, and CI=true forbids skipping (make test starts one and sets it)", PostgresDSNEnv)
		}
		t.Skipf("no PostgreSQL: run make test or set %s (deploy/postgres/postgres.sh starts one)", PostgresDSNEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresDSNEnv, err)
	}
	schema := testenv.UniqueName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open test PostgreSQL: %v", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("test failed: keeping PostgreSQL schema %s", schema)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return metastore.Config{DSN: u.String()}
}

// Postgres opens a store on a new schema of the test PostgreSQL, closed when the test ends.
func Postgres(t testing.TB) *metastore.Store {
	t.Helper()
	return open(t, PostgresConfig(t))
}

func open(t testing.TB, cfg metastore.Config) *metastore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := metastore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open metastore: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close metastore: %v", err)
		}
	})
	return s
}
