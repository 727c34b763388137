package scheduler

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/citypulse/citypulse/internal/metastore"
)

// TestMigrateKeepsRuns: a store made by a binary without cancelling (version 1 of the schema)
// with a queued run in it upgrades on New, and the run can be read and cancelled.
func TestMigrateKeepsRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		old := fstest.MapFS{}
		for _, name := range []string{"0001_scheduler.sqlite.sql", "0001_scheduler.postgres.sql"} {
			b, err := fs.ReadFile(migrations, "migrations/"+name)
			if err != nil {
				t.Fatal(err)
			}
			old[name] = &fstest.MapFile{Data: b}
		}
		ms := openStore(t, msCfg)
		if _, err := ms.Migrate(ctx, metastore.Schema{Name: Schema.Name, FS: old}); err != nil {
			t.Fatal(err)
		}
		if _, err := ms.DB().ExecContext(ctx, `INSERT INTO scheduler_runs
(job, logical_time, trigger_kind, sched_key, requested_by, state, attempt, max_attempts, created_at, not_before,
 started_at, finished_at, row_count, message, error_text, lease_owner, lease_expires)
VALUES ('extract', 1, 'manual', NULL, 'old', 'pending', 0, 3, 1, 1, 0, 0, 0, '', '', '', 0)`); err != nil {
			t.Fatal(err)
		}
		s, _ := newScheduler(t, msCfg, testConfig("new"), newFakeClock(at(t, "2024-05-02 09:00")), dagJobs(&ledger{}, "new"))
		r, err := s.GetRun(ctx, 1)
		if err != nil || r.State != StatePending || !r.CancelRequested.IsZero() || r.CancelledBy != "" {
			t.Fatalf("the old run after the upgrade: %+v, %v", r, err)
		}
		res, err := s.Cancel(ctx, 1, "bob")
		if err != nil || res.Cancelled != 1 || res.Runs[0].State != StateCancelled {
			t.Fatalf("cancel the old run: %+v, %v", res, err)
		}
	})
}
