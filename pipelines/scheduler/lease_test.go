package scheduler

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

// claimOne makes s claim the first runnable run without executing it: the state a crashed
// instance leaves behind.
func claimOne(t *testing.T, ctx context.Context, s *Scheduler) candidate {
	t.Helper()
	cands, err := s.st.candidates(ctx, s.clock.Now(), math.MinInt64, 0, 10)
	if err != nil || len(cands) == 0 {
		t.Fatalf("no candidate to claim (%v)", err)
	}
	ok, err := s.st.claim(ctx, cands[0], s.owner, s.clock.Now(), s.cfg.LeaseTTL)
	if err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	c := cands[0]
	c.attempt++
	return c
}

// TestLeaseTakeover: a run held by an instance that stopped renewing is taken over once its
// lease expires, not before; the crashed attempt is recorded as failed; the late holder can
// neither renew nor record its outcome.
func TestLeaseTakeover(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		crashed, _ := newScheduler(t, msCfg, testConfig("crashed"), clock, dagJobs(l, "crashed"))
		heir, _ := newScheduler(t, msCfg, testConfig("heir"), clock, dagJobs(l, "heir"))
		ttl := crashed.cfg.LeaseTTL
		if _, err := crashed.Trigger(ctx, "extract", "2024-05-01", EnqueueOptions{NoDownstream: true}); err != nil {
			t.Fatal(err)
		}
		c := claimOne(t, ctx, crashed)

		clock.Advance(ttl / 2)
		mustTick(t, ctx, heir)
		if n := len(l.count()); n != 0 {
			t.Fatalf("the heir ran %d runs while the lease was live", n)
		}
		if _, _, err := crashed.st.renew(ctx, c.id, c.attempt, crashed.owner, clock.Now().Add(ttl)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(ttl * 3 / 4) // past the first expiry, before the renewed one
		mustTick(t, ctx, heir)
		if n := len(l.count()); n != 0 {
			t.Fatalf("the heir ran %d runs while the renewed lease was live", n)
		}
		clock.Advance(ttl / 2) // past the renewed expiry
		mustTick(t, ctx, heir)
		if got := l.count()[dayKey("extract", "2024-05-01")]; got != 1 {
			t.Fatalf("after the lease expired extract ran %d times, want once", got)
		}
		if got := metricValue(t, heir.m.takeovers.WithLabelValues("extract")); got != 1 {
			t.Errorf("takeovers metric %v, want 1", got)
		}
		r, err := heir.GetRun(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateSucceeded || len(r.Attempts) != 2 {
			t.Fatalf("run %s with %d attempts, want succeeded with 2: %+v", r.State, len(r.Attempts), r)
		}
		if a := r.Attempts[0]; a.Owner != "crashed" || a.State != StateFailed || !strings.Contains(a.Error, "lease of instance crashed expired") {
			t.Errorf("attempt 1: %+v, want crashed's, failed by lease expiry", a)
		}
		if a := r.Attempts[1]; a.Owner != "heir" || a.State != StateSucceeded {
			t.Errorf("attempt 2: %+v, want heir's, succeeded", a)
		}
		// The crashed instance wakes up: its lease is gone and its outcome is refused.
		if _, _, err := crashed.st.renew(ctx, c.id, c.attempt, crashed.owner, clock.Now().Add(ttl)); !errors.Is(err, errLeaseLost) {
			t.Errorf("late renew: %v, want errLeaseLost", err)
		}
		_, _, err = crashed.st.finish(ctx, c.id, "extract", c.logical, c.attempt, crashed.owner, clock.Now(), outcome{attemptState: StateFailed, runState: StateFailed, errText: "late"})
		if !errors.Is(err, errLeaseLost) {
			t.Errorf("late finish: %v, want errLeaseLost", err)
		}
		if r, _ := heir.GetRun(ctx, c.id); r.State != StateSucceeded {
			t.Errorf("after the late finish the run is %s, want still succeeded", r.State)
		}
	})
}

// TestTakeoverWithoutRetriesFails: a crashed last attempt fails the run.
func TestTakeoverWithoutRetriesFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		l := &ledger{}
		jobs := func(l *ledger, inst string) []Job {
			return []Job{{Name: "once", Retries: NoRetries, Run: l.fn("once", inst)}}
		}
		crashed, _ := newScheduler(t, msCfg, testConfig("crashed"), clock, jobs(l, "crashed"))
		heir, _ := newScheduler(t, msCfg, testConfig("heir"), clock, jobs(l, "heir"))
		if _, err := crashed.Trigger(ctx, "once", "", EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		c := claimOne(t, ctx, crashed)
		clock.Advance(2 * crashed.cfg.LeaseTTL)
		mustTick(t, ctx, heir)
		r, err := heir.GetRun(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateFailed || !strings.Contains(r.Error, "expired") || len(l.count()) != 0 {
			t.Errorf("run %s (%q), %d calls; want failed by lease expiry, no call", r.State, r.Error, len(l.count()))
		}
	})
}

// TestLostLeaseCancelsAttempt: when a renewal finds the lease gone, the attempt's context is
// cancelled and its outcome is not recorded over the new holder's.
func TestLostLeaseCancelsAttempt(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		started := make(chan struct{})
		var cause atomic.Value
		jobs := []Job{{Name: "slow", Retries: NoRetries, Run: func(ctx context.Context, r Run) (RunResult, error) {
			close(started)
			<-ctx.Done()
			cause.Store(ctx.Err())
			return RunResult{}, ctx.Err()
		}}}
		s, _ := newScheduler(t, msCfg, testConfig("a"), clock, jobs)
		res, err := s.Trigger(ctx, "slow", "", EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Runs[0].ID
		ticked := make(chan error, 1)
		go func() { ticked <- s.Tick(ctx) }()
		<-started
		waitFor(t, "the lease renewal timer", func() bool { return clock.Waiters() > 0 })
		// Another instance takes the run over behind this one's back.
		if _, err := s.st.db.ExecContext(ctx, `UPDATE scheduler_runs SET lease_owner = 'other' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		clock.Advance(s.cfg.LeaseTTL / 3)
		if err := <-ticked; err != nil {
			t.Fatal(err)
		}
		if cause.Load() == nil {
			t.Fatal("the attempt's context was not cancelled")
		}
		if got := metricValue(t, s.m.attempts.WithLabelValues("slow", "lease_lost")); got != 1 {
			t.Errorf("lease_lost attempts %v, want 1", got)
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StateRunning || r.LeaseOwner != "other" {
			t.Errorf("run %s held by %q, want still running under other (its outcome is the new holder's)", r.State, r.LeaseOwner)
		}
	})
}

// TestShutdownInterrupts: stopping Run cancels a running attempt, records it as interrupted,
// and puts the run back to pending without using up a retry.
func TestShutdownInterrupts(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		clock := newFakeClock(at(t, "2024-05-02 09:00"))
		started := make(chan struct{})
		jobs := []Job{{Name: "slow", Retries: NoRetries, Run: func(ctx context.Context, r Run) (RunResult, error) {
			close(started)
			<-ctx.Done()
			return RunResult{}, ctx.Err()
		}}}
		s, _ := newScheduler(t, msCfg, testConfig("a"), clock, jobs)
		res, err := s.Trigger(ctx, "slow", "", EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx) }()
		<-started
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, res.Runs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != StatePending || r.MaxAttempts != 2 || len(r.Attempts) != 1 || r.Attempts[0].State != StateInterrupted {
			t.Errorf("run %s, max attempts %d, attempts %+v; want pending, 2, one interrupted", r.State, r.MaxAttempts, r.Attempts)
		}
	})
}

func mustTick(t *testing.T, ctx context.Context, s *Scheduler) {
	t.Helper()
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRunLoop: Run on the real clock picks up a trigger at once (the trigger wakes it) and runs
// the job and its dependent; it stops when its context ends.
func TestRunLoop(t *testing.T) {
	eachBackend(t, func(t *testing.T, msCfg metastore.Config) {
		ctx := testCtx(t)
		l := &ledger{}
		cfg := testConfig("loop")
		cfg.PollInterval = time.Hour // only the wake-up can make it look again
		s, err := New(ctx, openStore(t, msCfg), cfg, dagJobs(l, "loop"), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx) }()
		res, err := s.Trigger(ctx, "extract", "2024-05-01", EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last := res.Runs[len(res.Runs)-1].ID
		waitFor(t, "the triggered runs to succeed", func() bool {
			r, err := s.GetRun(ctx, last)
			return err == nil && r.State == StateSucceeded
		})
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := l.count(); len(got) != 3 {
			t.Errorf("calls %v, want extract, daily and profiles once", got)
		}
		if g := metricValue(t, s.m.running); g != 0 {
			t.Errorf("running attempts gauge %v after stop, want 0", g)
		}
	})
}
