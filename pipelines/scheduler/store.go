package scheduler

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the scheduler's part of the metadata store.
var Schema = metastore.Schema{Name: "scheduler", FS: migrations, Dir: "migrations"}

// store is the SQL of the scheduler_* tables. Times are Unix milliseconds.
type store struct {
	ms *metastore.Store
	db *sql.DB
}

// errLeaseLost means the run's lease is no longer this attempt's: another instance took the run
// over (or a person's action ended it).
var errLeaseLost = errors.New("lease lost")

const enqueueLock = "scheduler_enqueue"

// enqueueItem is one run to create.
type enqueueItem struct {
	job     string
	logical time.Time
	trigger Trigger
	by      string
	max     int
}

// enqueued is what enqueue did with an item.
type enqueued struct {
	ID      int64
	Created bool // false: a pending or running run of the job and logical time was there already (or the scheduled firing was)
}

// enqueue creates the runs, in order, in one transaction. A scheduled item (schedule, catch-up)
// is created at most once per job and logical time ever; any other item reuses a pending or
// running run of the same job and logical time.
func (s *store) enqueue(ctx context.Context, items []enqueueItem, now time.Time) ([]enqueued, error) {
	out := make([]enqueued, 0, len(items))
	err := s.ms.LockedTx(ctx, enqueueLock, func(tx *sql.Tx) error {
		out = out[:0]
		for _, it := range items {
			lt := it.logical.UnixMilli()
			var key any // NULL
			if it.trigger == TriggerSchedule || it.trigger == TriggerCatchUp {
				key = it.job + "@" + strconv.FormatInt(lt, 10)
			} else {
				var id int64
				err := tx.QueryRowContext(ctx, `SELECT id FROM scheduler_runs
WHERE job = $1 AND logical_time = $2 AND state IN ('pending', 'running') ORDER BY id LIMIT 1`, it.job, lt).Scan(&id)
				if err == nil {
					out = append(out, enqueued{ID: id})
					continue
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("look for a queued run of %s: %w", it.job, err)
				}
			}
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO scheduler_runs
(job, logical_time, trigger_kind, sched_key, requested_by, state, attempt, max_attempts, created_at, not_before,
 started_at, finished_at, row_count, message, error_text, lease_owner, lease_expires)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7, 0, 0, 0, '', '', '', 0)
ON CONFLICT DO NOTHING RETURNING id`,
				it.job, lt, string(it.trigger), key, it.by, it.max, now.UnixMilli()).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				out = append(out, enqueued{}) // the firing was enqueued before
			case err != nil:
				return fmt.Errorf("enqueue a run of %s: %w", it.job, err)
			default:
				out = append(out, enqueued{ID: id, Created: true})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return out, nil
}

// candidate is a run that may be startable: pending and due, or running with an expired lease.
type candidate struct {
	id           int64
	job          string
	logical      int64
	trigger      Trigger
	state        State
	attempt, max int
	created      int64
	leaseOwner   string
	leaseExpires int64
	// cancelRequested is when a person asked to cancel the run (0: never); cancelledBy who.
	cancelRequested int64
	cancelledBy     string
}

// candidates lists them by logical time and id, after the given ones (keyset paging; 0, 0 for
// the first page).
func (s *store) candidates(ctx context.Context, now time.Time, afterLogical, afterID int64, limit int) ([]candidate, error) {
	ms := now.UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT id, job, logical_time, trigger_kind, state, attempt, max_attempts, created_at, lease_owner, lease_expires,
cancel_requested, cancelled_by
FROM scheduler_runs
WHERE ((state = 'pending' AND not_before <= $1) OR (state = 'running' AND lease_expires < $1))
  AND (logical_time > $2 OR (logical_time = $2 AND id > $3))
ORDER BY logical_time, id LIMIT $4`, ms, afterLogical, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scheduler: list runnable runs: %w", err)
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		var trig, state string
		if err := rows.Scan(&c.id, &c.job, &c.logical, &trig, &state, &c.attempt, &c.max, &c.created, &c.leaseOwner, &c.leaseExpires,
			&c.cancelRequested, &c.cancelledBy); err != nil {
			return nil, fmt.Errorf("scheduler: list runnable runs: %w", err)
		}
		c.trigger, c.state = Trigger(trig), State(state)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduler: list runnable runs: %w", err)
	}
	return out, nil
}

// latestState is the state of the newest run of job for logical ("" when it has none).
func (s *store) latestState(ctx context.Context, job string, logical int64) (State, error) {
	var st string
	err := s.db.QueryRowContext(ctx, `SELECT state FROM scheduler_runs WHERE job = $1 AND logical_time = $2 ORDER BY id DESC LIMIT 1`,
		job, logical).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("scheduler: state of %s: %w", job, err)
	}
	return State(st), nil
}

// blocked reports whether another run of the same job and logical time is running or is an
// older pending one: runs of one partition execute one at a time, oldest first.
func (s *store) blocked(ctx context.Context, c candidate) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM scheduler_runs
WHERE job = $1 AND logical_time = $2 AND id <> $3 AND (state = 'running' OR (state = 'pending' AND id < $3))`,
		c.job, c.logical, c.id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("scheduler: runs beside run %d: %w", c.id, err)
	}
	return n > 0, nil
}

// claim takes a pending run for owner: the next attempt starts. ok is false when another
// instance was faster.
func (s *store) claim(ctx context.Context, c candidate, owner string, now time.Time, ttl time.Duration) (ok bool, err error) {
	ms := now.UnixMilli()
	err = s.ms.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE scheduler_runs SET state = 'running', attempt = attempt + 1,
lease_owner = $1, lease_expires = $2, started_at = CASE WHEN started_at = 0 THEN $3 ELSE started_at END
WHERE id = $4 AND state = 'pending' AND attempt = $5 AND not_before <= $3 AND cancel_requested = 0`,
			owner, now.Add(ttl).UnixMilli(), ms, c.id, c.attempt)
		if err != nil {
			return err
		}
		if ok, err = oneRow(res); err != nil || !ok {
			return err
		}
		return s.startAttempt(ctx, tx, c.id, c.attempt+1, owner, ms)
	})
	if err != nil {
		return false, fmt.Errorf("scheduler: claim run %d: %w", c.id, err)
	}
	return ok, nil
}

// takeOver ends the attempt of a running run whose lease expired (its holder crashed or
// stalled) and, when attempts remain, starts the next one for owner (next true). ok is false
// when another instance was faster.
func (s *store) takeOver(ctx context.Context, c candidate, owner string, now time.Time, ttl time.Duration) (ok, next bool, err error) {
	ms := now.UnixMilli()
	msg := fmt.Sprintf("lease of instance %s expired at %s: the instance crashed or stalled; run taken over by %s",
		c.leaseOwner, time.UnixMilli(c.leaseExpires).UTC().Format(time.RFC3339), owner)
	next = c.attempt < c.max
	err = s.ms.Tx(ctx, func(tx *sql.Tx) error {
		const cas = ` WHERE id = $2 AND state = 'running' AND attempt = $3 AND lease_owner = $4 AND lease_expires < $5 AND cancel_requested = 0`
		var res sql.Result
		var err error
		if next {
			res, err = tx.ExecContext(ctx, `UPDATE scheduler_runs SET attempt = attempt + 1, lease_owner = $6, lease_expires = $7, error_text = $1`+cas,
				msg, c.id, c.attempt, c.leaseOwner, ms, owner, now.Add(ttl).UnixMilli())
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE scheduler_runs SET state = 'failed', finished_at = $5, lease_owner = '', lease_expires = 0, error_text = $1`+cas,
				msg, c.id, c.attempt, c.leaseOwner, ms)
		}
		if err != nil {
			return err
		}
		if ok, err = oneRow(res); err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scheduler_attempts SET state = 'failed', finished_at = $1, error_text = $2
WHERE run_id = $3 AND attempt = $4`, ms, msg, c.id, c.attempt); err != nil {
			return err
		}
		if !next {
			return nil
		}
		return s.startAttempt(ctx, tx, c.id, c.attempt+1, owner, ms)
	})
	if err != nil {
		return false, false, fmt.Errorf("scheduler: take over run %d: %w", c.id, err)
	}
	return ok, next, nil
}

func (s *store) startAttempt(ctx context.Context, tx *sql.Tx, id int64, attempt int, owner string, ms int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO scheduler_attempts (run_id, attempt, owner, state, started_at, finished_at, row_count, error_text, log_text)
VALUES ($1, $2, $3, 'running', $4, 0, 0, '', '')`, id, attempt, owner, ms)
	return err
}

// renew extends the lease of the attempt; errLeaseLost when it is no longer the holder. It
// reports whether someone asked to cancel the run, and who (the holder then stops the attempt).
func (s *store) renew(ctx context.Context, id int64, attempt int, owner string, until time.Time) (cancelBy string, cancel bool, err error) {
	var requested int64
	err = s.db.QueryRowContext(ctx, `UPDATE scheduler_runs SET lease_expires = $1
WHERE id = $2 AND state = 'running' AND attempt = $3 AND lease_owner = $4
RETURNING cancel_requested, cancelled_by`, until.UnixMilli(), id, attempt, owner).Scan(&requested, &cancelBy)
	if errors.Is(err, sql.ErrNoRows) {
		err = errLeaseLost
	}
	if err != nil {
		return "", false, fmt.Errorf("scheduler: renew the lease of run %d: %w", id, err)
	}
	return cancelBy, requested > 0, nil
}

// outcome is how an attempt ended and what becomes of its run.
type outcome struct {
	attemptState State     // succeeded, failed or interrupted
	runState     State     // succeeded, failed, or pending (a retry or, after an interruption, the same attempt again)
	notBefore    time.Time // pending: when the next attempt may start
	rows         int64
	message      string
	errText      string
	log          string
	// downstream are the jobs whose pending runs of the same logical time are cancelled when
	// the run ends cancelled; partition names the logical time in their reason.
	downstream []string
	partition  string
}

// finish records the attempt's outcome while owner still holds the lease; errLeaseLost when it
// does not. A run that someone asked to cancel does not go back to pending (a retry, or after an
// interruption): it ends cancelled. It returns the run's state and, when that is cancelled, the
// pending downstream runs it cancelled with it.
func (s *store) finish(ctx context.Context, id int64, job string, logical int64, attempt int, owner string, now time.Time, o outcome) (final State, down []cancelledRun, err error) {
	ms := now.UnixMilli()
	err = s.ms.Tx(ctx, func(tx *sql.Tx) error {
		down = nil
		finished := ms
		extra := 0
		if o.runState == StatePending {
			finished = 0
			if o.attemptState == StateInterrupted {
				extra = 1 // an interrupted attempt does not count against the retries
			}
		}
		var st, by string
		err := tx.QueryRowContext(ctx, `UPDATE scheduler_runs SET
state = CASE WHEN cancel_requested > 0 AND CAST($1 AS TEXT) = 'pending' THEN 'cancelled' ELSE CAST($1 AS TEXT) END,
finished_at = CASE WHEN cancel_requested > 0 AND CAST($1 AS TEXT) = 'pending' THEN CAST($11 AS BIGINT) ELSE CAST($2 AS BIGINT) END,
not_before = $3, row_count = $4, message = $5, error_text = $6, lease_owner = '', lease_expires = 0, max_attempts = max_attempts + $7
WHERE id = $8 AND state = 'running' AND attempt = $9 AND lease_owner = $10
RETURNING state, cancelled_by`,
			string(o.runState), finished, o.notBefore.UnixMilli(), o.rows, o.message, o.errText, extra, id, attempt, owner, ms).Scan(&st, &by)
		if errors.Is(err, sql.ErrNoRows) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		final = State(st)
		if _, err = tx.ExecContext(ctx, `UPDATE scheduler_attempts SET state = $1, finished_at = $2, row_count = $3, error_text = $4, log_text = $5
WHERE run_id = $6 AND attempt = $7`, string(o.attemptState), ms, o.rows, o.errText, o.log, id, attempt); err != nil {
			return err
		}
		if final != StateCancelled {
			return nil
		}
		if o.runState == StatePending { // a retry or a resumption that the cancel request stopped
			if _, err := tx.ExecContext(ctx, `UPDATE scheduler_runs SET error_text = $1 WHERE id = $2`,
				cancelText(by)+" (the attempt ended first: "+o.errText+")", id); err != nil {
				return err
			}
		}
		down, err = cascadeCancel(ctx, tx, cascade{upstream: job, id: id, logical: logical, partition: o.partition, jobs: o.downstream, by: by}, ms)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("scheduler: record attempt %d of run %d: %w", attempt, id, err)
	}
	return final, down, nil
}

// skip ends a pending run without an attempt.
func (s *store) skip(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE scheduler_runs SET state = 'skipped', finished_at = $1, error_text = $2
WHERE id = $3 AND state = 'pending'`, now.UnixMilli(), reason, id)
	if err != nil {
		return fmt.Errorf("scheduler: skip run %d: %w", id, err)
	}
	return nil
}

func oneRow(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
