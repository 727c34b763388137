package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

// dagJobs: extract (00:30 daily) → daily (no schedule: enqueued with extract) → profiles (03:00).
func dagJobs(l *ledger, instance string) []Job {
	return []Job{
		{Name: "extract", Schedule: "30 0 * * *", Run: l.fn("extract", instance)},
		{Name: "daily", DependsOn: []string{"extract"}, Run: l.fn("daily", instance)},
		{Name: "profiles", Schedule: "0 3 * * *", DependsOn: []string{"daily"}, Run: l.fn("profiles", instance)},
	}
}

var dagDeps = map[string][]string{"daily": {"extract"}, "profiles": {"daily"}}

// tickAll runs one Tick of every scheduler at the same time.
func tickAll(t *testing.T, ctx context.Context, scheds []*Scheduler) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(scheds))
	for i, s := range scheds {
		wg.Go(func() { errs[i] = s.Tick(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func startInstances(t *testing.T, msCfg metastore.Config, clock Clock, l *ledger, n int, jobs func(*ledger, string) []Job) []*Scheduler {
	t.Helper()
	var out []*Scheduler
	for i := range n {
		name := fmt.Sprintf("instance-%d", i)
		s, _ := newScheduler(t, msCfg, testConfig(name), clock, jobs(l, name))
		out = append(out, s)
	}
	return out
}

// TestSchedulesRunOnceAcrossInstances: three instances on one store, stepping through two days
// on a fake clock; every scheduled (job, day) runs exactly once, each after its dependency.
func TestSchedulesRunOnceAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-01 00:00"))
		l := &ledger{}
		scheds := startInstances(t, msCfg, clock, l, 3, dagJobs)
		for range 2 * 24 * 4 {
			clock.Advance(15 * time.Minute)
			tickAll(t, ctx, scheds)
		}
		want := map[string]int{}
		for _, day := range []string{"2024-04-30", "2024-05-01"} {
			for _, job := range []string{"extract", "daily", "profiles"} {
				want[dayKey(job, day)] = 1
			}
		}
		if got := l.count(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("calls %v, want %v", got, want)
		}
		l.checkOrder(t, dagDeps)
		runs, err := scheds[0].Runs(ctx, RunFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 6 {
			t.Fatalf("%d runs recorded, want 6: %+v", len(runs), runs)
		}
		for _, r := range runs {
			if r.State != StateSucceeded || r.Attempt != 1 || r.Trigger != TriggerSchedule || r.Rows != 10 {
				t.Errorf("run %d %s %s: state %s, attempt %d, trigger %s, rows %d; want succeeded, 1, schedule, 10",
					r.ID, r.Job, r.Partition, r.State, r.Attempt, r.Trigger, r.Rows)
			}
		}
	})
}

// TestBackfillRunsOnceAcrossInstances: a 20-day backfill taken by three instances at once.
func TestBackfillRunsOnceAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-06-01 12:00"))
		l := &ledger{}
		scheds := startInstances(t, msCfg, clock, l, 3, dagJobs)
		res, err := scheds[0].Backfill(ctx, "extract", "2024-05-01", "2024-05-20", EnqueueOptions{By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 60 || len(res.Runs) != 60 {
			t.Fatalf("backfill created %d of %d runs, want 60 (20 days × extract, daily, profiles)", res.Created, len(res.Runs))
		}
		if r := res.Runs[0]; r.Job != "extract" || r.Partition != "2024-05-01" || r.Trigger != TriggerBackfill || r.RequestedBy != "test" {
			t.Errorf("first run %+v, want extract 2024-05-01 backfill by test", r)
		}
		if r := res.Runs[2]; r.Job != "profiles" || r.Partition != "2024-05-01" {
			t.Errorf("third run %s %s, want profiles 2024-05-01 (dependency order within a day)", r.Job, r.Partition)
		}
		tickAll(t, ctx, scheds)
		tickAll(t, ctx, scheds) // whatever one instance's Tick left to another's
		counts := l.count()
		if len(counts) != 60 {
			t.Errorf("%d distinct (job, day) ran, want 60", len(counts))
		}
		for k, n := range counts {
			if n != 1 {
				t.Errorf("%s ran %d times, want once", k, n)
			}
		}
		l.checkOrder(t, dagDeps)
		// A second backfill of the same range reruns every day, once more each.
		if _, err := scheds[1].Backfill(ctx, "extract", "2024-05-01", "2024-05-20", EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		tickAll(t, ctx, scheds)
		tickAll(t, ctx, scheds)
		for k, n := range l.count() {
			if n != 2 {
				t.Errorf("after the rerun %s ran %d times, want twice", k, n)
			}
		}
	})
}

// TestRetryRecordsAttempts: a job failing twice is retried with doubling backoff and succeeds
// on the third attempt; a permanent error and exhausted retries fail the run and skip its
// dependents.
func TestRetryRecordsAttempts(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{fail: func(job string, logical time.Time, attempt int) error {
			switch {
			case job == "extract" && logical.Day() == 1 && attempt < 3:
				return fmt.Errorf("warehouse unreachable (attempt %d)", attempt)
			case job == "extract" && logical.Day() == 2:
				return Permanent(errors.New("no such partition"))
			case job == "extract" && logical.Day() == 3:
				return errors.New("always broken")
			}
			return nil
		}}
		jobs := func(l *ledger, inst string) []Job {
			js := dagJobs(l, inst)
			js[0].Retries, js[0].Backoff = 3, time.Minute
			return js
		}
		s, reg := newScheduler(t, msCfg, testConfig("a"), clock, jobs(l, "a"))
		if _, err := s.Backfill(ctx, "extract", "2024-05-01", "2024-05-03", EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		steps := []time.Duration{0, 30 * time.Second, 30 * time.Second, time.Minute, time.Minute, 2 * time.Minute, 4 * time.Minute}
		for _, d := range steps {
			clock.Advance(d)
			if err := s.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.Runs(ctx, RunFilter{Job: "extract"})
		if err != nil {
			t.Fatal(err)
		}
		byDay := map[string]RunRecord{}
		for _, r := range runs {
			full, err := s.GetRun(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			byDay[r.Partition] = full
		}
		type attemptWant struct {
			state State
			err   string
		}
		tests := []struct {
			day      string
			state    State
			attempts []attemptWant
		}{
			{"2024-05-01", StateSucceeded, []attemptWant{{StateFailed, "attempt 1"}, {StateFailed, "attempt 2"}, {StateSucceeded, ""}}},
			{"2024-05-02", StateFailed, []attemptWant{{StateFailed, "no such partition"}}},
			{"2024-05-03", StateFailed, []attemptWant{{StateFailed, "always broken"}, {StateFailed, "always broken"}, {StateFailed, "always broken"}, {StateFailed, "always broken"}}},
		}
		for _, tc := range tests {
			r := byDay[tc.day]
			if r.State != tc.state || len(r.Attempts) != len(tc.attempts) {
				t.Errorf("extract %s: %s after %d attempts, want %s after %d", tc.day, r.State, len(r.Attempts), tc.state, len(tc.attempts))
				continue
			}
			for i, a := range r.Attempts {
				w := tc.attempts[i]
				if a.Attempt != i+1 || a.State != w.state || !strings.Contains(a.Error, w.err) || a.Owner != "a" || a.FinishedAt.IsZero() {
					t.Errorf("extract %s attempt %d: %+v, want %s with error %q", tc.day, i+1, a, w.state, w.err)
				}
				if len(a.Log) == 0 || !strings.Contains(strings.Join(a.Log, "\n"), "computing") {
					t.Errorf("extract %s attempt %d: log %q lacks the job's line", tc.day, i+1, a.Log)
				}
			}
		}
		// Retries waited 1 and then 2 minutes: attempt 2 started at +1m, attempt 3 at +3m.
		a := byDay["2024-05-01"].Attempts
		if d := a[1].StartedAt.Sub(a[0].StartedAt); d != time.Minute {
			t.Errorf("second attempt %s after the first, want 1m", d)
		}
		if d := a[2].StartedAt.Sub(a[1].StartedAt); d != 2*time.Minute {
			t.Errorf("third attempt %s after the second, want 2m", d)
		}
		// Dependents: run for day 1, skipped for days 2 and 3.
		for _, job := range []string{"daily", "profiles"} {
			runs, err := s.Runs(ctx, RunFilter{Job: job})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				want := StateSkipped
				if r.Partition == "2024-05-01" {
					want = StateSucceeded
				}
				if r.State != want {
					t.Errorf("%s %s: %s (%s), want %s", job, r.Partition, r.State, r.Error, want)
				}
				if want == StateSkipped && !strings.Contains(r.Error, "failed") && !strings.Contains(r.Error, "skipped") {
					t.Errorf("%s %s skipped with reason %q, want the dependency named", job, r.Partition, r.Error)
				}
			}
		}
		if got := metricValue(t, s.m.attempts.WithLabelValues("extract", "failed")); got != 7 {
			t.Errorf("failed attempts metric %v, want 7", got)
		}
		if got := metricValue(t, s.m.runs.WithLabelValues("profiles", "skipped")); got != 2 {
			t.Errorf("skipped profiles runs metric %v, want 2", got)
		}
		if n := familySize(t, reg, "citypulse_scheduler_run_duration_seconds"); n == 0 {
			t.Errorf("duration histogram: no series")
		}
	})
}

// TestCatchUpOnStart: firings missed while no scheduler ran are run by the next instance that
// starts, within the look-back, and marked catch-up.
func TestCatchUpOnStart(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-01 00:00"))
		l := &ledger{}
		first, _ := newScheduler(t, msCfg, testConfig("first"), clock, dagJobs(l, "first"))
		for range 4 { // up to 01:00: the 00:30 firing computes 30 April
			if err := first.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Advance(15 * time.Minute)
		}
		// Down until 4 May 12:00. The next instance looks back 48 hours: the firings of 3 and 4
		// May (for 2 and 3 May) run; that of 2 May (for 1 May) is older and does not.
		clock.Set(at(t, "2024-05-04 12:00"))
		cfg := testConfig("second")
		cfg.CatchUp = 48 * time.Hour
		second, _ := newScheduler(t, msCfg, cfg, clock, dagJobs(l, "second"))
		if err := second.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		runs, err := second.Runs(ctx, RunFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range runs {
			if r.State != StateSucceeded {
				t.Errorf("run %s %s: %s", r.Job, r.Partition, r.State)
			}
			got[r.Job+" "+r.Partition] = string(r.Trigger)
		}
		want := map[string]string{
			"extract 2024-04-30": "schedule", "daily 2024-04-30": "schedule",
			"extract 2024-05-02": "catch-up", "daily 2024-05-02": "catch-up", "profiles 2024-05-02": "catch-up",
			"extract 2024-05-03": "catch-up", "daily 2024-05-03": "catch-up", "profiles 2024-05-03": "catch-up",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs %v\nwant %v", got, want)
		}
		l.checkOrder(t, dagDeps)
		// A third instance starting now finds nothing missed: each firing is enqueued once.
		third, _ := newScheduler(t, msCfg, cfg, clock, dagJobs(l, "third"))
		if err := third.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if again, _ := third.Runs(ctx, RunFilter{Limit: 100}); len(again) != len(runs) {
			t.Errorf("a third instance added %d runs", len(again)-len(runs))
		}
	})
}
