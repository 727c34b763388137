package plan

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func newTestStore(t *testing.T, ms *metastore.Store) *Store {
	t.Helper()
	s, err := NewStore(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustParse(t testing.TB, yaml string) Plan {
	t.Helper()
	p, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStore(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		ctx := context.Background()
		s := newTestStore(t, ms)
		if _, err := s.Active(ctx); !errors.Is(err, ErrNoPlan) {
			t.Fatalf("Active on an empty store: %v, want ErrNoPlan", err)
		}
		if v, err := s.ActiveVersion(ctx); err != nil || v != 0 {
			t.Fatalf("ActiveVersion = %d, %v", v, err)
		}

		p1 := loadTestPlan(t)
		v, changed, err := s.Apply(ctx, p1, ApplyOptions{By: "alice", Source: []byte("# the file\n")})
		if err != nil || v != 1 || !changed {
			t.Fatalf("first Apply = %d %v %v", v, changed, err)
		}
		// The same plan again, even written differently (JSON), is no new version.
		canon, _ := p1.Canonical()
		same, err := Parse(canon)
		if err != nil {
			t.Fatal(err)
		}
		if v, changed, err := s.Apply(ctx, same, ApplyOptions{By: "bob"}); err != nil || v != 1 || changed {
			t.Fatalf("same plan: Apply = %d %v %v; want 1, unchanged", v, changed, err)
		}
		p2 := loadTestPlan(t)
		p2.UnknownEvents = Reject
		if v, changed, err := s.Apply(ctx, p2, ApplyOptions{By: "bob"}); err != nil || v != 2 || !changed {
			t.Fatalf("changed plan: Apply = %d %v %v; want 2, changed", v, changed, err)
		}
		// Applying version 1's content again is a rollback: a new version 3.
		if v, changed, err := s.Apply(ctx, p1, ApplyOptions{}); err != nil || v != 3 || !changed {
			t.Fatalf("rollback: Apply = %d %v %v; want 3, changed", v, changed, err)
		}

		rec, err := s.Active(ctx)
		if err != nil || rec.Version != 3 || rec.AppliedBy != "unknown" || rec.Plan.UnknownEvents != Flag {
			t.Fatalf("Active = %+v, %v", rec.Summary, err)
		}
		c1, _ := p1.Canonical()
		c3, _ := rec.Plan.Canonical()
		if string(c1) != string(c3) {
			t.Fatalf("stored plan differs from the applied one:\n%s\n%s", c3, c1)
		}
		first, err := s.Get(ctx, 1)
		if err != nil || first.Source != "# the file\n" || first.AppliedBy != "alice" || first.Events != 10 || first.AppliedAt.IsZero() {
			t.Fatalf("Get(1) = %+v, %v", first.Summary, err)
		}
		if first.SHA256 != rec.SHA256 {
			t.Fatalf("versions 1 and 3 hold the same plan but digests differ")
		}
		if _, err := s.Get(ctx, 9); !errors.Is(err, ErrNoVersion) {
			t.Fatalf("Get(9): %v, want ErrNoVersion", err)
		}
		hist, err := s.History(ctx)
		if err != nil || len(hist) != 3 || hist[0].Version != 3 || hist[2].Version != 1 || hist[1].AppliedBy != "bob" {
			t.Fatalf("History = %+v, %v", hist, err)
		}
		c, err := rec.Compile()
		if err != nil || c.Version() != 3 {
			t.Fatalf("Compile: %v, version %d", err, c.Version())
		}

		// A bad plan is refused before it reaches the store.
		bad := Plan{Events: []Event{{Name: "x", Type: "click"}}}
		if _, _, err := s.Apply(ctx, bad, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "events[0].type") {
			t.Fatalf("bad plan: %v", err)
		}
		if v, _ := s.ActiveVersion(ctx); v != 3 {
			t.Fatalf("a refused plan changed the version to %d", v)
		}
	})
}

// TestStoreConcurrentApply: applies of different plans from several goroutines (two stores,
// as two processes would) give distinct, gap-free versions.
func TestStoreConcurrentApply(t *testing.T) {
	for name, cfg := range map[string]func(testing.TB) metastore.Config{
		"sqlite":   metastoretest.SQLiteConfig,
		"postgres": metastoretest.PostgresConfig,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := cfg(t)
			var stores []*Store
			for range 2 {
				ms, err := metastore.Open(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = ms.Close() })
				stores = append(stores, newTestStore(t, ms))
			}
			const n = 12
			versions := make([]int, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := Plan{Description: "plan " + strings.Repeat("i", i+1), Events: []Event{}}
					versions[i], _, errs[i] = stores[i%2].Apply(ctx, p, ApplyOptions{})
				}()
			}
			wg.Wait()
			seen := map[int]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				seen[versions[i]] = true
			}
			for v := 1; v <= n; v++ {
				if !seen[v] {
					t.Fatalf("versions %v: %d missing", versions, v)
				}
			}
		})
	}
}
