package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// recordTimeout bounds the bookkeeping write after an attempt, which runs even when the
// scheduler is stopping.
const recordTimeout = 10 * time.Second

// consider starts c if it can start now: a pending run whose dependencies succeeded, or a running
// run whose holder's lease expired. A pending run whose dependency failed is skipped. started
// is true when this instance now executes an attempt of c.
func (s *Scheduler) consider(ctx context.Context, c candidate) (started bool, err error) {
	j, ok := s.dag.jobs[c.job]
	if !ok {
		return false, nil // declared by another version of the binary; its instances run it
	}
	now := s.clock.Now()
	if c.cancelRequested > 0 {
		// Someone asked to cancel it and no instance executes it (pending, or its holder's
		// lease expired): it ends cancelled here.
		_, err := s.cancel(ctx, []int64{c.id}, c.cancelledBy)
		return false, err
	}
	if c.state == StateRunning {
		ok, next, err := s.st.takeOver(ctx, c, s.owner, now, s.cfg.LeaseTTL)
		if err != nil || !ok {
			return false, err
		}
		s.m.takeovers.WithLabelValues(j.Name).Inc()
		s.log.Warn("took over a run whose lease expired", "job", j.Name, "run", c.id, "previous_holder", c.leaseOwner, "attempt", c.attempt, "retry", next)
		if !next {
			s.m.runs.WithLabelValues(j.Name, string(StateFailed)).Inc()
			return false, nil
		}
		s.start(ctx, j, c, c.attempt+1)
		return true, nil
	}
	if j.Disabled {
		return false, nil
	}
	if blocked, err := s.st.blocked(ctx, c); err != nil || blocked {
		return false, err
	}
	for _, dep := range j.DependsOn {
		st, err := s.st.latestState(ctx, dep, c.logical)
		if err != nil {
			return false, err
		}
		reason := ""
		part := j.format(time.UnixMilli(c.logical))
		switch st {
		case StateSucceeded:
			continue
		case StatePending, StateRunning:
			return false, nil
		case StateFailed, StateSkipped, StateCancelled:
			reason = fmt.Sprintf("dependency %s %s for %s", dep, st, part)
		default:
			wait := now.Sub(time.UnixMilli(c.created))
			if wait < s.cfg.DependencyWait {
				return false, nil
			}
			reason = fmt.Sprintf("dependency %s has no run for %s (waited %s)", dep, part, wait.Round(time.Second))
		}
		if err := s.st.skip(ctx, c.id, reason, now); err != nil {
			return false, err
		}
		s.m.runs.WithLabelValues(j.Name, string(StateSkipped)).Inc()
		s.log.Warn("run skipped", "job", j.Name, "run", c.id, "logical", part, "reason", reason)
		return false, nil
	}
	ok, err = s.st.claim(ctx, c, s.owner, now, s.cfg.LeaseTTL)
	if err != nil || !ok {
		return false, err
	}
	s.start(ctx, j, c, c.attempt+1)
	return true, nil
}

// start executes attempt of c in a goroutine that Run and Tick wait for.
func (s *Scheduler) start(ctx context.Context, j *job, c candidate, attempt int) {
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
	s.m.running.Inc()
	s.attempts.Add(1)
	go func() {
		defer s.attempts.Done()
		defer func() {
			s.mu.Lock()
			s.busy--
			s.mu.Unlock()
			s.m.running.Dec()
			s.wakeUp()
		}()
		s.execute(ctx, j, c, attempt)
	}()
}

// execute runs one attempt under the lease, renewing it, and records the outcome.
func (s *Scheduler) execute(ctx context.Context, j *job, c candidate, attempt int) {
	logical := time.UnixMilli(c.logical).In(j.loc)
	lines := newLineBuffer(s.cfg.MaxLogLines)
	capture := slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelInfo})
	log := slog.New(slog.NewMultiHandler(s.log.Handler(), capture)).
		With("job", j.Name, "run", c.id, "attempt", attempt, "logical", j.format(logical))
	run := Run{ID: c.id, Job: j.Name, Logical: logical, End: j.endOf(logical), Attempt: attempt, Trigger: c.trigger, Log: log}

	attemptCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.keepLease(attemptCtx, cancel, done, c.id, attempt, log)
	}()
	log.Info("attempt started", "trigger", c.trigger, "max_attempts", c.max)
	began := time.Now()
	res, err := call(attemptCtx, j, run)
	elapsed := time.Since(began)
	close(done)
	<-renewed
	s.m.duration.WithLabelValues(j.Name).Observe(elapsed.Seconds())

	if errors.Is(context.Cause(attemptCtx), errLeaseLost) {
		s.m.attempts.WithLabelValues(j.Name, "lease_lost").Inc()
		log.Error("lease lost during the attempt: its result is dropped; the instance that took the run over records it", "err", err)
		return
	}
	now := s.clock.Now()
	o := outcome{rows: res.Rows, message: res.Message}
	switch {
	case err == nil:
		o.attemptState, o.runState = StateSucceeded, StateSucceeded
		log.Info("attempt succeeded", "rows", res.Rows, "message", res.Message, "took", elapsed.Round(time.Millisecond))
	case errors.Is(context.Cause(attemptCtx), ErrCancelled):
		o.attemptState, o.runState = StateCancelled, StateCancelled
		o.errText = context.Cause(attemptCtx).Error()
		log.Warn("attempt stopped: the run was cancelled; no retry", "err", err, "cause", o.errText)
	case ctx.Err() != nil:
		o.attemptState, o.runState, o.notBefore = StateInterrupted, StatePending, now
		o.errText = "interrupted: the scheduler stopped (" + err.Error() + ")"
		log.Warn("attempt interrupted: the scheduler is stopping; the run goes back to pending", "err", err)
	default:
		o.attemptState, o.errText = StateFailed, err.Error()
		if IsPermanent(err) || attempt >= c.max {
			o.runState = StateFailed
			log.Error("attempt failed; no retry left", "err", err, "permanent", IsPermanent(err))
		} else {
			wait := backoff(j, attempt)
			o.runState, o.notBefore = StatePending, now.Add(wait)
			log.Warn("attempt failed; will retry", "err", err, "retry_in", wait)
		}
	}
	o.log = lines.String()
	o.downstream, o.partition = j.downstream, j.format(logical)
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer rcancel()
	final, down, err := s.st.finish(rctx, c.id, j.Name, c.logical, attempt, s.owner, now, o)
	if err != nil {
		if errors.Is(err, errLeaseLost) {
			s.m.attempts.WithLabelValues(j.Name, "lease_lost").Inc()
		}
		s.log.Error("could not record an attempt", "job", j.Name, "run", c.id, "attempt", attempt, "err", err)
		return
	}
	s.m.attempts.WithLabelValues(j.Name, string(o.attemptState)).Inc()
	switch {
	case final == StateCancelled:
		s.countCancelled(j.Name)
		for _, d := range down {
			s.countCancelled(d.job)
		}
		if len(down) > 0 {
			log.Info("downstream runs cancelled with the run", "runs", len(down))
		}
	case final.Terminal():
		s.m.runs.WithLabelValues(j.Name, string(final)).Inc()
	}
}

// call runs the job's function under its timeout, turning a panic into an error and a
// timeout into an error that says so.
func call(ctx context.Context, j *job, run Run) (res RunResult, err error) {
	tctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %s panicked: %v\n%s", j.Name, p, debug.Stack())
		}
	}()
	res, err = j.Run(tctx, run)
	if err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("timed out after %s: %w", j.Timeout, err)
	}
	return res, err
}

// keepLease renews the attempt's lease every min(PollInterval, LeaseTTL/3) until done closes.
// When the lease is lost (another instance took the run over), or cannot be renewed before it
// expires, it cancels the attempt with errLeaseLost. When a renewal finds that someone asked to
// cancel the run, it cancels the attempt with ErrCancelled and goes on renewing while the
// attempt winds down.
func (s *Scheduler) keepLease(ctx context.Context, cancel context.CancelCauseFunc, done <-chan struct{}, id int64, attempt int, log *slog.Logger) {
	expires := s.clock.Now().Add(s.cfg.LeaseTTL)
	every := min(s.cfg.PollInterval, s.cfg.LeaseTTL/3)
	stopping := false
	for {
		select {
		case <-done:
			return
		case <-s.clock.After(every):
		}
		until := s.clock.Now().Add(s.cfg.LeaseTTL)
		// The renewal outlives the attempt's context once it is cancelled (the attempt is
		// still winding down under this lease).
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.LeaseTTL)
		by, cancelled, err := s.st.renew(rctx, id, attempt, s.owner, until)
		rcancel()
		switch {
		case err == nil:
			expires = until
			if cancelled && !stopping {
				stopping = true
				log.Warn("the run was cancelled: stopping the attempt", "by", by)
				cancel(fmt.Errorf("%w by %s", ErrCancelled, by))
			}
		case errors.Is(err, errLeaseLost) || !s.clock.Now().Before(expires):
			s.log.Error("run lease lost; cancelling the attempt", "run", id, "attempt", attempt, "err", err)
			cancel(errLeaseLost)
			return
		default:
			s.log.Warn("could not renew a run lease; will try again before it expires", "run", id, "err", err)
		}
	}
}

// backoff is the pause after failed attempt n (from 1): Backoff doubled n−1 times, at most
// MaxBackoff.
func backoff(j *job, n int) time.Duration {
	d := j.Backoff
	for i := 1; i < n && d < j.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, j.MaxBackoff)
}
