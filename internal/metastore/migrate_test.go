package metastore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

// widgets is a schema like the ones packages declare: one portable version, one per dialect.
var widgets = fstest.MapFS{
	"m/0001_widgets.sql": {Data: []byte(`
CREATE TABLE widgets (
    id    BIGINT NOT NULL PRIMARY KEY,
    name  TEXT   NOT NULL UNIQUE
);
CREATE TABLE widget_parts (
    widget_id BIGINT NOT NULL REFERENCES widgets (id),
    part      TEXT   NOT NULL
);`)},
	"m/0002_widget_notes.sqlite.sql":   {Data: []byte(`ALTER TABLE widgets ADD COLUMN note TEXT NOT NULL DEFAULT 'sqlite';`)},
	"m/0002_widget_notes.postgres.sql": {Data: []byte(`ALTER TABLE widgets ADD COLUMN note TEXT NOT NULL DEFAULT 'postgres';`)},
}

func TestMigrationsFileSet(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		err   string
	}{
		{"bad name", fstest.MapFS{"1_x.sql": file("")}, "1_x.sql: want NNNN_title.sql"},
		{"upper-case title", fstest.MapFS{"0001_X.sql": file("")}, "want NNNN_title.sql"},
		{"gap", fstest.MapFS{"0001_a.sql": file(""), "0003_c.sql": file("")}, "version 0002 is missing"},
		{"starts at 2", fstest.MapFS{"0002_b.sql": file("")}, "version 0001 is missing"},
		{"one dialect only", fstest.MapFS{"0001_a.sqlite.sql": file("")}, "needs both a .sqlite.sql and a .postgres.sql"},
		{"portable and dialect", fstest.MapFS{"0001_a.sql": file(""), "0001_a.postgres.sql": file(""), "0001_a.sqlite.sql": file("")}, "both a portable file and dialect files"},
		{"two titles", fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, "two titles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := metastore.Migrations(metastore.Schema{Name: "t", FS: tc.files}, metastore.SQLite)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	for _, d := range []metastore.Dialect{metastore.SQLite, metastore.Postgres} {
		migs, err := metastore.Migrations(metastore.Schema{Name: "widgets", FS: widgets, Dir: "m"}, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(migs) != 2 || migs[0].Title != "widgets" || !strings.Contains(migs[1].SQL, "'"+string(d)+"'") {
			t.Fatalf("%s: got %+v", d, migs)
		}
	}
}

func TestMigrate(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, s *metastore.Store) {
		ctx := context.Background()
		sc := metastore.Schema{Name: "widgets", FS: widgets, Dir: "m"}
		n, err := s.Migrate(ctx, sc)
		if err != nil || n != 2 {
			t.Fatalf("first Migrate = %d, %v; want 2 applied", n, err)
		}
		if n, err := s.Migrate(ctx, sc); err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0 applied", n, err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ($1, $2)`, 1, "bench"); err != nil {
			t.Fatal(err)
		}
		var note string
		if err := s.DB().QueryRowContext(ctx, `SELECT note FROM widgets WHERE id = $1`, 1).Scan(&note); err != nil || note != string(s.Dialect()) {
			t.Fatalf("note = %q, %v; want the %s migration's default", note, err, s.Dialect())
		}
		// Foreign keys are enforced on both databases.
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO widget_parts (widget_id, part) VALUES ($1, $2)`, 99, "leg"); err == nil {
			t.Fatal("a part of a missing widget was accepted: foreign keys are off")
		}

		// A binary that knows fewer versions than the database refuses to run against it.
		older := fstest.MapFS{"m/0001_widgets.sql": widgets["m/0001_widgets.sql"]}
		if _, err := s.Migrate(ctx, metastore.Schema{Name: "widgets", FS: older, Dir: "m"}); !errors.Is(err, metastore.ErrSchemaTooNew) {
			t.Fatalf("older binary: err = %v, want ErrSchemaTooNew", err)
		}

		// A failing version leaves nothing behind: neither its earlier statements nor a record.
		broken := fstest.MapFS{"0001_half.sql": {Data: []byte("CREATE TABLE half_done (id BIGINT);\nINSERT INTO no_such_table (id) VALUES (1);")}}
		if _, err := s.Migrate(ctx, metastore.Schema{Name: "broken", FS: broken}); err == nil || !strings.Contains(err.Error(), "apply 0001_half") {
			t.Fatalf("broken migration: err = %v", err)
		}
		if _, err := s.DB().ExecContext(ctx, `SELECT COUNT(*) FROM half_done`); err == nil {
			t.Fatal("the failed migration's first table exists: it was not rolled back")
		}

		applied, err := s.Applied(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range applied {
			got = append(got, fmt.Sprintf("%s/%d/%s", a.Schema, a.Version, a.Title))
			if a.AppliedAt.IsZero() {
				t.Errorf("%+v: no time", a)
			}
		}
		if want := "widgets/1/widgets widgets/2/widget_notes"; strings.Join(got, " ") != want {
			t.Fatalf("applied = %v, want %s", got, want)
		}
	})
}

// TestMigrateConcurrently starts several processes' worth of Stores on one database at once:
// each version must be applied exactly once and every Migrate must succeed.
func TestMigrateConcurrently(t *testing.T) {
	for name, cfg := range map[string]func(testing.TB) metastore.Config{
		"sqlite":   metastoretest.SQLiteConfig,
		"postgres": metastoretest.PostgresConfig,
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg(t)
			ctx := context.Background()
			const n = 4
			var wg sync.WaitGroup
			total := make([]int, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := metastore.Open(ctx, c)
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					total[i], errs[i] = s.Migrate(ctx, metastore.Schema{Name: "widgets", FS: widgets, Dir: "m"})
				}()
			}
			wg.Wait()
			sum := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("store %d: %v", i, errs[i])
				}
				sum += total[i]
			}
			if sum != 2 {
				t.Fatalf("versions applied across stores = %d, want 2", sum)
			}
		})
	}
}
