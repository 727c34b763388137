package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

// TestPrune: a day run twice (a rerun) and another day run once; after KeepHistory has passed,
// Prune deletes the replaced first run only, and empties every old attempt log; runs that are
// younger keep theirs. A KeepHistory of 0 prunes nothing.
func TestPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		jobs := []Job{{Name: "daily", Partition: Day, Run: func(_ context.Context, r Run) (RunResult, error) {
			r.Log.Info("computed", "day", r.Day())
			return RunResult{Rows: 1}, nil
		}}}
		cfg := testConfig("a")
		cfg.KeepHistory = 24 * time.Hour
		s, _ := newScheduler(t, msCfg, cfg, clock, jobs)
		run := func(day string) int64 {
			t.Helper()
			res, err := s.Trigger(ctx, "daily", day, EnqueueOptions{By: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RunQueued(ctx); err != nil {
				t.Fatal(err)
			}
			return res.Runs[0].ID
		}
		first, rerun, other := run("2024-05-01"), run("2024-05-01"), run("2024-04-30")
		clock.Advance(12 * time.Hour)
		young := run("2024-04-29")

		if runs, logs, err := s.Prune(ctx); err != nil || runs != 0 || logs != 0 {
			t.Fatalf("prune before anything is old: %d runs, %d logs, %v", runs, logs, err)
		}
		clock.Advance(13 * time.Hour) // the first three are 25 h old, young 13 h
		runs, logs, err := s.Prune(ctx)
		if err != nil || runs != 1 || logs != 2 {
			t.Fatalf("prune: %d runs, %d logs, %v; want 1 run (the replaced one) and 2 logs", runs, logs, err)
		}
		if _, err := s.GetRun(ctx, first); err == nil {
			t.Errorf("run %d (replaced by %d) still there", first, rerun)
		}
		for id, wantLog := range map[int64]string{rerun: prunedLog, other: prunedLog, young: "computed"} {
			r, err := s.GetRun(ctx, id)
			if err != nil {
				t.Fatalf("run %d: %v", id, err)
			}
			if r.State != StateSucceeded || r.Rows != 1 || len(r.Attempts) != 1 || !strings.Contains(strings.Join(r.Attempts[0].Log, "\n"), wantLog) {
				t.Errorf("run %d after pruning: %s rows %d attempts %+v; want succeeded, 1 row, log with %q", id, r.State, r.Rows, r.Attempts, wantLog)
			}
		}
		if runs, logs, err := s.Prune(ctx); err != nil || runs != 0 || logs != 0 {
			t.Errorf("second prune: %d runs, %d logs, %v; want nothing", runs, logs, err)
		}

		cfg.KeepHistory, cfg.Instance = 0, "b"
		keepAll, _ := newScheduler(t, msCfg, cfg, clock, jobs)
		clock.Advance(48 * time.Hour)
		if runs, logs, err := keepAll.Prune(ctx); err != nil || runs != 0 || logs != 0 {
			t.Errorf("prune with keep-history 0: %d runs, %d logs, %v", runs, logs, err)
		}
	})
}
