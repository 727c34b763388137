package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Cancelling. A person's request is recorded on the run (cancel_requested, cancelled_by) in one
// transaction: a pending run ends cancelled at once, as does a running run whose holder's lease
// expired (no instance is executing it); a running run stays running until the instance
// holding its lease sees the request, at its next lease renewal (every min(PollInterval,
// LeaseTTL/3)), cancels the attempt's context with ErrCancelled and records the run cancelled.
// A run that ends cancelled takes the pending runs of its downstream jobs for the same logical
// time with it (they could only be skipped later). Cancelled runs are never retried.

// CancelResult is what a cancel request did.
type CancelResult struct {
	// Runs are the runs the request selected, by logical time, each followed by the downstream
	// runs cancelled with it, as they are now: cancelled, or still running for the moment it
	// takes their holder to stop them (CancelRequested set).
	Runs []RunRecord `json:"runs"`
	// Cancelled counts the runs that ended cancelled at once; Stopping the running ones their
	// holders were asked to stop.
	Cancelled int `json:"cancelled"`
	Stopping  int `json:"stopping"`
}

// Cancel cancels one run: a pending run ends cancelled at once; a running one is stopped by
// the instance executing it (this or another) within PollInterval and then ends cancelled,
// without a retry. Pending runs of the downstream jobs for the same logical time are cancelled
// with it. by names who asked ("" is "unknown"). A run that has ended is an error matching
// ErrFinished; an unknown one ErrNoRun.
func (s *Scheduler) Cancel(ctx context.Context, id int64, by string) (CancelResult, error) {
	r, err := s.GetRun(ctx, id)
	if err != nil {
		return CancelResult{}, err
	}
	if r.State.Terminal() {
		return CancelResult{}, fmt.Errorf("run %d (%s for %s) is %s: %w", id, r.Job, r.Partition, r.State, ErrFinished)
	}
	res, err := s.cancel(ctx, []int64{id}, cancelBy(by))
	if err != nil {
		return CancelResult{}, err
	}
	if len(res.Runs) == 0 { // it ended between the read and the cancel
		r, _ = s.GetRun(ctx, id)
		return CancelResult{}, fmt.Errorf("run %d (%s for %s) is %s: %w", id, r.Job, r.Partition, r.State, ErrFinished)
	}
	return res, nil
}

// CancelJob cancels every pending and running run of job (as Cancel does each), or only those
// whose logical time lies in from..to, both optional and read as Backfill reads them (a plain
// date as to includes its day). A job without such runs gives an empty result. Errors about
// the request are *InputError or ErrUnknownJob.
func (s *Scheduler) CancelJob(ctx context.Context, job, from, to, by string) (CancelResult, error) {
	j, err := s.lookup(job)
	if err != nil {
		return CancelResult{}, err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if strings.TrimSpace(from) != "" {
		t, _, err := parseTime("from", from, j.loc)
		if err != nil {
			return CancelResult{}, err
		}
		lo = t.UnixMilli() // runs whose partition starts in the range, as a backfill's
	}
	if strings.TrimSpace(to) != "" {
		t, dateOnly, err := parseTime("to", to, j.loc)
		if err != nil {
			return CancelResult{}, err
		}
		if dateOnly {
			y, m, d := t.Date()
			t = time.Date(y, m, d+1, 0, 0, 0, 0, j.loc).Add(-time.Millisecond)
		}
		hi = t.UnixMilli()
		if hi < lo {
			return CancelResult{}, inputErr("to", "%s is before from (%s)", to, from)
		}
	}
	ids, err := s.st.activeRuns(ctx, job, lo, hi)
	if err != nil {
		return CancelResult{}, err
	}
	return s.cancel(ctx, ids, cancelBy(by))
}

func cancelBy(by string) string {
	if by == "" {
		return "unknown"
	}
	return by
}

// cancelText is the error recorded on a run cancelled at by's request.
func cancelText(by string) string { return "cancelled by " + by }

// cancel applies a request to the runs (those that ended meanwhile are left out), counts what
// ended, and returns the runs as they are now.
func (s *Scheduler) cancel(ctx context.Context, ids []int64, by string) (CancelResult, error) {
	res := CancelResult{Runs: []RunRecord{}}
	if len(ids) == 0 {
		return res, nil
	}
	done, err := s.st.cancel(ctx, ids, by, s.clock.Now(), s.cascadeOf)
	if err != nil {
		return CancelResult{}, err
	}
	for _, c := range done {
		if c.state == StateCancelled {
			res.Cancelled++
			s.countCancelled(c.job)
		} else {
			res.Stopping++
		}
		r, err := s.GetRun(ctx, c.id)
		if err != nil {
			return CancelResult{}, err
		}
		r.Attempts = nil
		res.Runs = append(res.Runs, r)
	}
	if len(done) > 0 {
		s.log.Info("runs cancelled", "by", by, "cancelled", res.Cancelled, "stopping", res.Stopping, "first", done[0].id)
	}
	return res, nil
}

func (s *Scheduler) countCancelled(job string) {
	s.m.runs.WithLabelValues(job, string(StateCancelled)).Inc()
	s.m.cancelled.WithLabelValues(job).Inc()
}

// cascadeOf is what a run of job for logical cancels with it: the pending runs of its
// downstream jobs for the same logical time.
func (s *Scheduler) cascadeOf(job string, id, logical int64, by string) cascade {
	c := cascade{upstream: job, id: id, logical: logical, by: by}
	if j, ok := s.dag.jobs[job]; ok {
		c.jobs = j.downstream
		c.partition = j.format(time.UnixMilli(logical))
	}
	return c
}

// cancelledRun is a run a cancel request touched and its state after it: cancelled, or
// running (its holder will stop it).
type cancelledRun struct {
	id    int64
	job   string
	state State
}

// cascade is a cancelled run's pending downstream runs to cancel.
type cascade struct {
	upstream  string
	id        int64
	logical   int64
	partition string
	jobs      []string
	by        string
}

// activeRuns lists the pending and running runs of job with a logical time in lo..hi.
func (s *store) activeRuns(ctx context.Context, job string, lo, hi int64) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM scheduler_runs
WHERE job = $1 AND state IN ('pending', 'running') AND logical_time >= $2 AND logical_time <= $3
ORDER BY logical_time, id`, job, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("scheduler: active runs of %s: %w", job, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scheduler: active runs of %s: %w", job, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduler: active runs of %s: %w", job, err)
	}
	return ids, nil
}

// cancelRun records a cancel request on a pending or running run. A run no instance executes
// (pending, or running under an expired lease) ends cancelled; a running one keeps running
// with the request recorded for its holder. The first request's time and author stay.
const cancelRun = `UPDATE scheduler_runs SET
state = CASE WHEN lease_expires < $1 THEN 'cancelled' ELSE state END,
finished_at = CASE WHEN lease_expires < $1 THEN $1 ELSE finished_at END,
error_text = CASE WHEN lease_expires < $1 THEN CAST($2 AS TEXT) ELSE error_text END,
lease_owner = CASE WHEN lease_expires < $1 THEN '' ELSE lease_owner END,
cancel_requested = CASE WHEN cancel_requested = 0 THEN $1 ELSE cancel_requested END,
cancelled_by = CASE WHEN cancelled_by = '' THEN CAST($3 AS TEXT) ELSE cancelled_by END,
lease_expires = CASE WHEN lease_expires < $1 THEN 0 ELSE lease_expires END
WHERE id = $4 AND state IN ('pending', 'running')
RETURNING state, job, logical_time, cancelled_by`

// cancel records the request on each run in one transaction, ending what no instance executes
// (and its cascade). Runs that had ended are left out of the result.
func (s *store) cancel(ctx context.Context, ids []int64, by string, now time.Time, cascadeOf func(job string, id, logical int64, by string) cascade) ([]cancelledRun, error) {
	ms := now.UnixMilli()
	var out []cancelledRun
	err := s.ms.Tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, id := range ids {
			var st, job, firstBy string
			var logical int64
			err := tx.QueryRowContext(ctx, cancelRun, ms, cancelText(by), by, id).Scan(&st, &job, &logical, &firstBy)
			if errors.Is(err, sql.ErrNoRows) {
				continue // it ended meanwhile
			}
			if err != nil {
				return fmt.Errorf("cancel run %d: %w", id, err)
			}
			out = append(out, cancelledRun{id: id, job: job, state: State(st)})
			if State(st) != StateCancelled {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE scheduler_attempts SET state = 'cancelled', finished_at = $1, error_text = $2
WHERE run_id = $3 AND state = 'running'`, ms, cancelText(firstBy)+" after the instance running it stopped renewing its lease", id); err != nil {
				return fmt.Errorf("cancel the attempt of run %d: %w", id, err)
			}
			down, err := cascadeCancel(ctx, tx, cascadeOf(job, id, logical, firstBy), ms)
			if err != nil {
				return err
			}
			out = append(out, down...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return out, nil
}

// cascadeCancel cancels the pending runs of c's downstream jobs for its logical time, saying
// why.
func cascadeCancel(ctx context.Context, tx *sql.Tx, c cascade, ms int64) ([]cancelledRun, error) {
	if len(c.jobs) == 0 {
		return nil, nil
	}
	part := c.partition
	if part == "" {
		part = time.UnixMilli(c.logical).UTC().Format(time.RFC3339)
	}
	reason := fmt.Sprintf("cancelled: upstream run %d (%s for %s) was cancelled by %s", c.id, c.upstream, part, c.by)
	args := []any{ms, reason, c.by, c.logical}
	marks := make([]string, len(c.jobs))
	for i, j := range c.jobs {
		args = append(args, j)
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := tx.QueryContext(ctx, `UPDATE scheduler_runs SET state = 'cancelled', finished_at = $1, error_text = $2,
cancel_requested = $1, cancelled_by = $3
WHERE logical_time = $4 AND state = 'pending' AND job IN (`+strings.Join(marks, ", ")+`)
RETURNING id, job`, args...)
	if err != nil {
		return nil, fmt.Errorf("cancel the downstream runs of run %d: %w", c.id, err)
	}
	defer rows.Close()
	var out []cancelledRun
	for rows.Next() {
		r := cancelledRun{state: StateCancelled}
		if err := rows.Scan(&r.id, &r.job); err != nil {
			return nil, fmt.Errorf("cancel the downstream runs of run %d: %w", c.id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cancel the downstream runs of run %d: %w", c.id, err)
	}
	return out, nil
}
