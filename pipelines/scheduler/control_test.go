package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

// TestTriggerAndJobs: a trigger enqueues the job and its dependents once (a second trigger
// reuses the queued runs), Jobs shows next and last runs, and bad requests name the field.
func TestTriggerAndJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		jobs := append(dagJobs(l, "a"), Job{Name: "off", Disabled: true, Run: nop})
		s, _ := newScheduler(t, msCfg, testConfig("a"), clock, jobs)

		res, err := s.Trigger(ctx, "extract", "", EnqueueOptions{By: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Runs {
			got = append(got, fmt.Sprintf("%s %s %s %s %s", r.Job, r.Partition, r.Trigger, r.State, r.RequestedBy))
		}
		want := "[extract 2024-05-01 manual pending alice daily 2024-05-01 manual pending alice profiles 2024-05-01 manual pending alice]"
		if res.Created != 3 || fmt.Sprint(got) != want {
			t.Fatalf("trigger created %d: %v\nwant 3: %s", res.Created, got, want)
		}
		again, err := s.Trigger(ctx, "daily", "2024-05-01", EnqueueOptions{NoDownstream: true})
		if err != nil {
			t.Fatal(err)
		}
		if again.Created != 0 || len(again.Runs) != 1 || again.Runs[0].ID != res.Runs[1].ID {
			t.Errorf("second trigger of a queued run: %+v, want the queued run reused", again)
		}

		mustTick(t, ctx, s)
		st, err := s.Jobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 4 || st[0].Name != "extract" || st[1].Name != "daily" || st[2].Name != "off" || st[3].Name != "profiles" {
			t.Fatalf("jobs %+v, want extract, daily, off, profiles", st)
		}
		ex := st[0]
		if ex.NextRun.IsZero() || !ex.NextRun.Equal(at(t, "2024-05-03 00:30")) || ex.NextPartition != "2024-05-02" {
			t.Errorf("extract next run %s (%s), want 2024-05-03 00:30 for 2024-05-02", ex.NextRun, ex.NextPartition)
		}
		if ex.LastRun == nil || ex.LastRun.State != StateSucceeded || ex.LastRun.Partition != "2024-05-01" {
			t.Errorf("extract last run %+v, want succeeded for 2024-05-01", ex.LastRun)
		}
		if st[1].NextRun != (time.Time{}) || st[2].LastRun != nil || !st[2].Disabled {
			t.Errorf("daily (no schedule) next run %s; off %+v", st[1].NextRun, st[2])
		}

		var ie *InputError
		if _, err := s.Trigger(ctx, "extract", "yesterday", EnqueueOptions{}); !errors.As(err, &ie) || ie.Field != "logical_time" {
			t.Errorf("bad logical time: %v, want an InputError on logical_time", err)
		}
		if _, err := s.Trigger(ctx, "nope", "", EnqueueOptions{}); !errors.Is(err, ErrUnknownJob) {
			t.Errorf("unknown job: %v", err)
		}
		if _, err := s.Trigger(ctx, "off", "", EnqueueOptions{}); !errors.Is(err, ErrDisabled) {
			t.Errorf("disabled job: %v", err)
		}
		if _, err := s.Backfill(ctx, "extract", "2020-01-01", "2024-01-01", EnqueueOptions{}); !errors.As(err, &ie) || ie.Field != "to" {
			t.Errorf("huge backfill: %v, want an InputError on to", err)
		}
		if _, err := s.Runs(ctx, RunFilter{State: "lost"}); !errors.As(err, &ie) || ie.Field != "state" {
			t.Errorf("bad state filter: %v", err)
		}
		if _, err := s.GetRun(ctx, 999); !errors.Is(err, ErrNoRun) {
			t.Errorf("missing run: %v", err)
		}
		runs, err := s.Runs(ctx, RunFilter{Job: "extract", State: StateSucceeded})
		if err != nil || len(runs) != 1 {
			t.Errorf("succeeded extract runs: %d, %v", len(runs), err)
		}
		page, err := s.Runs(ctx, RunFilter{Limit: 2})
		if err != nil || len(page) != 2 {
			t.Fatalf("first page: %d, %v", len(page), err)
		}
		rest, err := s.Runs(ctx, RunFilter{Before: page[1].ID})
		if err != nil || len(rest) != 1 || rest[0].ID >= page[1].ID {
			t.Errorf("next page: %+v, %v", rest, err)
		}
	})
}

// TestDependencyWithoutRunIsSkipped: a run waits for a dependency that has no run for its
// logical time, up to DependencyWait, then is skipped with the reason.
func TestDependencyWithoutRunIsSkipped(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		s, _ := newScheduler(t, msCfg, testConfig("a"), clock, dagJobs(l, "a"))
		res, err := s.Trigger(ctx, "daily", "2024-05-01", EnqueueOptions{NoDownstream: true})
		if err != nil {
			t.Fatal(err)
		}
		mustTick(t, ctx, s)
		clock.Advance(s.cfg.DependencyWait - time.Minute)
		mustTick(t, ctx, s)
		if r, _ := s.GetRun(ctx, res.Runs[0].ID); r.State != StatePending {
			t.Fatalf("before the wait ran out: %s, want pending", r.State)
		}
		clock.Advance(time.Minute)
		mustTick(t, ctx, s)
		r, err := s.GetRun(ctx, res.Runs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateSkipped || !strings.Contains(r.Error, "dependency extract has no run for 2024-05-01") {
			t.Errorf("run %s (%q), want skipped naming extract", r.State, r.Error)
		}
		if n := l.count()[dayKey("daily", "2024-05-01")]; n != 0 {
			t.Errorf("daily ran %d times for 2024-05-01, want never", n)
		}
	})
}

// TestAttemptFailures: a timeout, a panic and a flood of log lines are recorded, bounded.
func TestAttemptFailures(t *testing.T) {
	ctx := testCtx(t)
	clock := newFakeClock(at(t, "2024-05-02 09:00"))
	jobs := []Job{
		{Name: "hangs", Retries: NoRetries, Timeout: 10 * time.Millisecond, Run: func(ctx context.Context, r Run) (RunResult, error) {
			<-ctx.Done()
			return RunResult{}, ctx.Err()
		}},
		{Name: "panics", Retries: NoRetries, Run: func(context.Context, Run) (RunResult, error) { panic("boom") }},
		{Name: "chatty", Run: func(_ context.Context, r Run) (RunResult, error) {
			for i := range 500 {
				r.Log.Info("line", "i", i, "pad", strings.Repeat("x", 2000))
			}
			return RunResult{Rows: 500, Message: "said a lot"}, nil
		}},
	}
	cfg := testConfig("a")
	cfg.MaxLogLines = 10
	s, _ := newScheduler(t, metastoreSQLite(t), cfg, clock, jobs)
	ids := map[string]int64{}
	for _, j := range jobs {
		res, err := s.Trigger(ctx, j.Name, "", EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[j.Name] = res.Runs[0].ID
	}
	mustTick(t, ctx, s)
	get := func(name string) RunRecord {
		r, err := s.GetRun(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := get("hangs"); r.State != StateFailed || !strings.Contains(r.Error, "timed out after 10ms") {
		t.Errorf("hangs: %s %q, want failed by timeout", r.State, r.Error)
	}
	if r := get("panics"); r.State != StateFailed || !strings.Contains(r.Error, "panicked: boom") {
		t.Errorf("panics: %s %q, want failed by the panic", r.State, r.Error)
	}
	r := get("chatty")
	if r.State != StateSucceeded || r.Rows != 500 || r.Message != "said a lot" {
		t.Fatalf("chatty: %+v", r)
	}
	log := r.Attempts[0].Log
	if len(log) != 11 || !strings.Contains(log[0], "earlier lines dropped") || !strings.Contains(log[10], "attempt succeeded") {
		t.Errorf("chatty log: %d lines, first %q, last %q; want the note and the last 10", len(log), log[0], log[len(log)-1])
	}
	for _, line := range log {
		if len(line) > maxLineBytes+16 {
			t.Errorf("a log line of %d bytes was kept", len(line))
		}
	}
}
