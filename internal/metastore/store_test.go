package metastore_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func TestSQLiteSettings(t *testing.T) {
	s := metastoretest.SQLite(t)
	ctx := context.Background()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "1"} {
		var got string
		if err := s.DB().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := t.TempDir()
	s, err := metastore.Open(context.Background(), metastore.Config{DSN: "sqlite:" + dir + "/a/b/meta.db"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	// Port 1 on loopback: nothing listens there, so the connection is refused at once.
	_, err := metastore.Open(context.Background(), metastore.Config{DSN: "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5"})
	if err == nil {
		t.Fatal("Open succeeded without a server")
	}
	if got := err.Error(); !strings.Contains(got, "metastore: connect") || strings.Contains(got, "secret") {
		t.Fatalf("err = %q: want a connect error without the password", got)
	}
}

// TestLockedTx runs read-increment-write sequences from two Stores (two processes' worth of
// connection pools) at once; serialisation means no increment is lost.
func TestLockedTx(t *testing.T) {
	for name, cfg := range map[string]func(testing.TB) metastore.Config{
		"sqlite":   metastoretest.SQLiteConfig,
		"postgres": metastoretest.PostgresConfig,
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg(t)
			ctx := context.Background()
			var stores []*metastore.Store
			for range 2 {
				s, err := metastore.Open(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				stores = append(stores, s)
			}
			if _, err := stores[0].DB().ExecContext(ctx, `CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter (n) VALUES (0);`); err != nil {
				t.Fatal(err)
			}
			const perWorker = 25
			var wg sync.WaitGroup
			errs := make(chan error, 4*perWorker)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := stores[w%2]
					for range perWorker {
						errs <- s.LockedTx(ctx, "counter", func(tx *sql.Tx) error {
							var n int64
							if err := tx.QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
								return err
							}
							_, err := tx.ExecContext(ctx, `UPDATE counter SET n = $1`, n+1)
							return err
						})
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int64
			if err := stores[1].DB().QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&n); err != nil || n != 4*perWorker {
				t.Fatalf("counter = %d, %v; want %d", n, err, 4*perWorker)
			}
		})
	}
}
