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

// TestCancelQueued: queued runs end cancelled at once, with the pending runs of their
// downstream jobs; finished and unknown runs and bad ranges are errors naming what is wrong.
func TestCancelQueued(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		s, reg := newScheduler(t, msCfg, testConfig("a"), clock, dagJobs(l, "a"))
		done, err := s.Trigger(ctx, "extract", "2024-04-21", EnqueueOptions{NoDownstream: true})
		if err != nil {
			t.Fatal(err)
		}
		mustTick(t, ctx, s) // 04-21 succeeds
		if _, err := s.Backfill(ctx, "extract", "2024-04-01", "2024-04-05", EnqueueOptions{By: "oops"}); err != nil {
			t.Fatal(err)
		}
		single, err := s.Trigger(ctx, "extract", "2024-04-10", EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ie *InputError
		tests := []struct {
			name          string
			do            func() (CancelResult, error)
			wantErr       func(error) bool
			wantCancelled int
			want          []string // "job partition state", in order
		}{
			{"one queued run and its downstream", func() (CancelResult, error) { return s.Cancel(ctx, single.Runs[0].ID, "bob") }, nil, 3,
				[]string{"extract 2024-04-10 cancelled", "daily 2024-04-10 cancelled", "profiles 2024-04-10 cancelled"}},
			{"again: already cancelled", func() (CancelResult, error) { return s.Cancel(ctx, single.Runs[0].ID, "bob") },
				func(err error) bool {
					return errors.Is(err, ErrFinished) && strings.Contains(err.Error(), "is cancelled")
				}, 0, nil},
			{"a succeeded run", func() (CancelResult, error) { return s.Cancel(ctx, done.Runs[0].ID, "bob") },
				func(err error) bool {
					return errors.Is(err, ErrFinished) && strings.Contains(err.Error(), "is succeeded")
				}, 0, nil},
			{"an unknown run", func() (CancelResult, error) { return s.Cancel(ctx, 9999, "bob") },
				func(err error) bool { return errors.Is(err, ErrNoRun) }, 0, nil},
			{"part of a backfill", func() (CancelResult, error) { return s.CancelJob(ctx, "extract", "2024-04-02", "2024-04-03", "bob") }, nil, 6,
				[]string{"extract 2024-04-02 cancelled", "daily 2024-04-02 cancelled", "profiles 2024-04-02 cancelled",
					"extract 2024-04-03 cancelled", "daily 2024-04-03 cancelled", "profiles 2024-04-03 cancelled"}},
			{"the rest of the job from a date", func() (CancelResult, error) { return s.CancelJob(ctx, "extract", "2024-04-05", "", "bob") }, nil, 3,
				[]string{"extract 2024-04-05 cancelled", "daily 2024-04-05 cancelled", "profiles 2024-04-05 cancelled"}},
			{"a downstream job alone", func() (CancelResult, error) { return s.CancelJob(ctx, "profiles", "", "2024-04-01", "bob") }, nil, 1,
				[]string{"profiles 2024-04-01 cancelled"}},
			{"nothing left in the range", func() (CancelResult, error) { return s.CancelJob(ctx, "extract", "2024-04-02", "2024-04-03", "bob") }, nil, 0, nil},
			{"unknown job", func() (CancelResult, error) { return s.CancelJob(ctx, "ghost", "", "", "bob") },
				func(err error) bool { return errors.Is(err, ErrUnknownJob) }, 0, nil},
			{"bad from", func() (CancelResult, error) { return s.CancelJob(ctx, "extract", "April", "", "bob") },
				func(err error) bool { return errors.As(err, &ie) && ie.Field == "from" }, 0, nil},
			{"to before from", func() (CancelResult, error) { return s.CancelJob(ctx, "extract", "2024-04-03", "2024-04-01", "bob") },
				func(err error) bool { return errors.As(err, &ie) && ie.Field == "to" }, 0, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				res, err := tc.do()
				if tc.wantErr != nil {
					if !tc.wantErr(err) {
						t.Fatalf("error %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Runs {
					got = append(got, fmt.Sprintf("%s %s %s", r.Job, r.Partition, r.State))
					if r.CancelledBy != "bob" || r.CancelRequested.IsZero() || r.FinishedAt.IsZero() {
						t.Errorf("run %d: cancelled by %q at %s, finished %s", r.ID, r.CancelledBy, r.CancelRequested, r.FinishedAt)
					}
				}
				if res.Cancelled != tc.wantCancelled || res.Stopping != 0 || fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("cancelled %d, stopping %d: %v\nwant %d: %v", res.Cancelled, res.Stopping, got, tc.wantCancelled, tc.want)
				}
			})
		}
		r, err := s.GetRun(ctx, single.Runs[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Error, fmt.Sprintf("upstream run %d (extract for 2024-04-10) was cancelled by bob", single.Runs[0].ID)) {
			t.Errorf("downstream run's error %q does not say why", r.Error)
		}
		if r, _ := s.GetRun(ctx, single.Runs[0].ID); r.Error != "cancelled by bob" {
			t.Errorf("cancelled run's error %q", r.Error)
		}
		before := l.count()
		clock.Advance(time.Hour)
		mustTick(t, ctx, s)
		after := l.count()
		for _, day := range []string{"2024-04-02", "2024-04-03", "2024-04-05", "2024-04-10"} {
			for _, job := range []string{"extract", "daily", "profiles"} {
				if after[dayKey(job, day)] != 0 {
					t.Errorf("%s ran for %s after it was cancelled", job, day)
				}
			}
		}
		if after[dayKey("extract", "2024-04-04")] != 1 || after[dayKey("daily", "2024-04-01")] != 1 || len(after) <= len(before) {
			t.Errorf("the runs not cancelled did not run: %v", after)
		}
		if got := metricValue(t, s.m.cancelled.WithLabelValues("extract")); got != 4 {
			t.Errorf("cancelled extract runs metric %v, want 4", got)
		}
		if got := metricValue(t, s.m.cancelled.WithLabelValues("profiles")); got != 5 {
			t.Errorf("cancelled profiles runs metric %v, want 5", got)
		}
		if n := familySize(t, reg, "citypulse_scheduler_runs_cancelled_total"); n != 3 {
			t.Errorf("%d series of the cancelled metric, want 3 (one per job)", n)
		}
		if runs, err := s.Runs(ctx, RunFilter{State: StateCancelled, Limit: 100}); err != nil || len(runs) != 13 {
			t.Errorf("cancelled runs: %d, %v; want 13", len(runs), err)
		}
	})
}

// blocker is a job function that signals its start and then returns as its test tells it:
// when its context ends (recording the context's error and cause), or on release.
type blocker struct {
	started chan struct{}
	release chan error
	stopOn  bool // return when ctx ends; otherwise only on release
	mu      sync.Mutex
	calls   int
	ctxErr  error
	cause   error
}

func newBlocker(stopOnCtx bool) *blocker {
	return &blocker{started: make(chan struct{}, 10), release: make(chan error, 1), stopOn: stopOnCtx}
}

func (b *blocker) run(ctx context.Context, r Run) (RunResult, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	b.started <- struct{}{}
	var err error
	if b.stopOn {
		<-ctx.Done()
		err = ctx.Err()
	} else {
		err = <-b.release
	}
	b.mu.Lock()
	b.ctxErr, b.cause = ctx.Err(), context.Cause(ctx)
	b.mu.Unlock()
	return RunResult{Rows: 1}, err
}

func (b *blocker) seen() (calls int, ctxErr, cause error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls, b.ctxErr, b.cause
}

// TestCancelRunning: a running run is stopped through the instance executing it (here B, the
// request made through A on the same store); it ends cancelled, not failed, is not retried,
// and the downstream run waiting for it is cancelled and never starts. A run that ends before
// its holder notices the request keeps a success, and a failure does not retry.
func TestCancelRunning(t *testing.T) {
	tests := []struct {
		name      string
		stopOnCtx bool
		endFirst  error // !stopOnCtx: what the job returns before its holder notices
		want      State
		wantErr   string
		wantCause bool // the job saw ctx end with ErrCancelled
	}{
		{"stops when its context ends", true, nil, StateCancelled, "run cancelled by bob", true},
		{"fails before noticing", false, errors.New("disk full"), StateCancelled, "cancelled by bob (the attempt ended first: disk full)", false},
		{"succeeds before noticing", false, nil, StateSucceeded, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
				ctx := testCtx(t)
				clock := newFakeClock(at(t, "2024-05-02 09:00"))
				b := newBlocker(tc.stopOnCtx)
				l := &ledger{}
				jobs := func(inst string) []Job {
					return []Job{
						{Name: "slow", Retries: 3, Backoff: time.Second, Run: b.run},
						{Name: "after", DependsOn: []string{"slow"}, Run: l.fn("after", inst)},
					}
				}
				a, _ := newScheduler(t, msCfg, testConfig("a"), clock, jobs("a"))
				bInst, bReg := newScheduler(t, msCfg, testConfig("b"), clock, jobs("b"))
				res, err := a.Trigger(ctx, "slow", "2024-05-01", EnqueueOptions{})
				if err != nil {
					t.Fatal(err)
				}
				id, downID := res.Runs[0].ID, res.Runs[1].ID
				ticked := make(chan error, 1)
				go func() { ticked <- bInst.Tick(ctx) }()
				<-b.started
				waitFor(t, "the lease renewal timer", func() bool { return clock.Waiters() > 0 })

				c, err := a.Cancel(ctx, id, "bob")
				if err != nil {
					t.Fatal(err)
				}
				if c.Stopping != 1 || c.Cancelled != 0 || len(c.Runs) != 1 || c.Runs[0].State != StateRunning || c.Runs[0].CancelRequested.IsZero() {
					t.Fatalf("cancel of a running run: %+v, want it running with the request recorded", c)
				}
				if !tc.stopOnCtx {
					b.release <- tc.endFirst
				} else {
					clock.Advance(a.cfg.PollInterval) // B's next renewal sees the request
				}
				if err := <-ticked; err != nil {
					t.Fatal(err)
				}
				calls, ctxErr, cause := b.seen()
				if tc.wantCause && (ctxErr == nil || !errors.Is(cause, ErrCancelled)) {
					t.Errorf("the job saw ctx error %v, cause %v; want cancelled with ErrCancelled", ctxErr, cause)
				}
				r, err := a.GetRun(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if r.State != tc.want || r.Error != tc.wantErr || len(r.Attempts) != 1 || r.Attempts[0].Owner != "b" {
					t.Fatalf("run %s %q, attempts %+v; want %s %q after one attempt on b", r.State, r.Error, r.Attempts, tc.want, tc.wantErr)
				}
				if tc.wantCause && r.Attempts[0].State != StateCancelled {
					t.Errorf("attempt %s, want cancelled", r.Attempts[0].State)
				}
				// Nothing retries it; the downstream run never starts.
				clock.Advance(time.Hour)
				tickAll(t, ctx, []*Scheduler{a, bInst})
				if calls2, _, _ := b.seen(); calls2 != calls || calls != 1 {
					t.Errorf("slow was called %d times, want once (no retry)", calls2)
				}
				down, err := a.GetRun(ctx, downID)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want == StateCancelled {
					if down.State != StateCancelled || !strings.Contains(down.Error, "upstream run") || l.count()[dayKey("after", "2024-05-01")] != 0 {
						t.Errorf("downstream run %s %q, %v calls; want cancelled, never run", down.State, down.Error, l.count())
					}
					if got := metricValue(t, bInst.m.cancelled.WithLabelValues("slow")); got != 1 {
						t.Errorf("b's cancelled metric %v, want 1", got)
					}
					if familySize(t, bReg, "citypulse_scheduler_runs_cancelled_total") != 2 {
						t.Error("b did not count the downstream run it cancelled")
					}
				} else if down.State != StateSucceeded {
					t.Errorf("downstream run %s after a success, want succeeded", down.State)
				}
				if _, err := a.Cancel(ctx, id, "bob"); !errors.Is(err, ErrFinished) {
					t.Errorf("cancelling the ended run: %v, want ErrFinished", err)
				}
			})
		})
	}
}

// TestCancelAbandoned: a run whose holder crashed (its lease is not renewed) is cancelled by
// whichever instance finds it after the lease expired, without running it again; a request
// made after the expiry ends it at once.
func TestCancelAbandoned(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		crashed, _ := newScheduler(t, msCfg, testConfig("crashed"), clock, dagJobs(l, "crashed"))
		heir, _ := newScheduler(t, msCfg, testConfig("heir"), clock, dagJobs(l, "heir"))
		for _, tc := range []struct {
			day         string
			beforeCrash bool // request while the lease is live
		}{{"2024-04-01", true}, {"2024-04-02", false}} {
			if _, err := crashed.Trigger(ctx, "extract", tc.day, EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
			c := claimOne(t, ctx, crashed)
			if tc.beforeCrash {
				res, err := heir.Cancel(ctx, c.id, "bob")
				if err != nil || res.Stopping != 1 {
					t.Fatalf("%s: cancel with a live lease: %+v, %v", tc.day, res, err)
				}
				clock.Advance(2 * crashed.cfg.LeaseTTL)
				mustTick(t, ctx, heir)
			} else {
				clock.Advance(2 * crashed.cfg.LeaseTTL)
				res, err := heir.Cancel(ctx, c.id, "bob")
				if err != nil || res.Cancelled != 3 {
					t.Fatalf("%s: cancel with an expired lease: %+v, %v; want it and its 2 downstream runs cancelled", tc.day, res, err)
				}
			}
			r, err := heir.GetRun(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != StateCancelled || len(r.Attempts) != 1 || r.Attempts[0].State != StateCancelled ||
				!strings.Contains(r.Attempts[0].Error, "stopped renewing its lease") {
				t.Errorf("%s: run %s, attempts %+v; want cancelled, the crashed attempt cancelled", tc.day, r.State, r.Attempts)
			}
		}
		mustTick(t, ctx, heir)
		if n := len(l.count()); n != 0 {
			t.Errorf("%d job calls, want none: %v", n, l.count())
		}
	})
}
