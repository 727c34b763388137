package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RunRecord is a run as recorded, for the API and the CLI.
type RunRecord struct {
	ID  int64  `json:"id"`
	Job string `json:"job"`
	// Logical is the start of the partition; Partition is it written for people in the job's
	// zone (2024-05-01 for a day, 2024-05-01T10:00 for an hour).
	Logical      time.Time `json:"logical_time"`
	Partition    string    `json:"partition"`
	Trigger      Trigger   `json:"trigger"`
	RequestedBy  string    `json:"requested_by,omitempty"`
	State        State     `json:"state"`
	Attempt      int       `json:"attempt"`
	MaxAttempts  int       `json:"max_attempts"`
	CreatedAt    time.Time `json:"created_at"`
	NotBefore    time.Time `json:"not_before,omitzero"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	Rows         int64     `json:"rows"`
	Message      string    `json:"message,omitempty"`
	Error        string    `json:"error,omitempty"`
	LeaseOwner   string    `json:"lease_owner,omitempty"`
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	// CancelRequested is when someone asked to cancel the run, and CancelledBy who; a run that
	// is still running with it set is being stopped by its holder.
	CancelRequested time.Time       `json:"cancel_requested,omitzero"`
	CancelledBy     string          `json:"cancelled_by,omitempty"`
	Attempts        []AttemptRecord `json:"attempts,omitempty"` // only from Scheduler.Run
}

// Duration is FinishedAt − StartedAt, or 0 when the run has not finished.
func (r RunRecord) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// AttemptRecord is one attempt of a run.
type AttemptRecord struct {
	Attempt    int       `json:"attempt"`
	Owner      string    `json:"owner"`
	State      State     `json:"state"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Rows       int64     `json:"rows"`
	Error      string    `json:"error,omitempty"`
	Log        []string  `json:"log,omitempty"`
}

const runColumns = `id, job, logical_time, trigger_kind, requested_by, state, attempt, max_attempts, created_at, not_before,
started_at, finished_at, row_count, message, error_text, lease_owner, lease_expires, cancel_requested, cancelled_by`

// RunFilter selects runs, newest first.
type RunFilter struct {
	Job    string // "" for every job
	State  State  // "" for every state
	Before int64  // only runs with a smaller id (paging); 0 for none
	Limit  int    // at most this many; 0 or less is 50, more than 1000 is 1000
}

func (s *store) runs(ctx context.Context, f RunFilter, format func(job string, ms int64) (time.Time, string)) ([]RunRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Job != "" {
		add("job = $%d", f.Job)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if f.Before > 0 {
		add("id < $%d", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := `SELECT ` + runColumns + ` FROM scheduler_runs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scheduler: list runs: %w", err)
	}
	defer rows.Close()
	out := []RunRecord{}
	for rows.Next() {
		r, err := scanRun(rows, format)
		if err != nil {
			return nil, fmt.Errorf("scheduler: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduler: list runs: %w", err)
	}
	return out, nil
}

// lastRuns returns the newest run of every job that has one.
func (s *store) lastRuns(ctx context.Context, format func(job string, ms int64) (time.Time, string)) (map[string]RunRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM scheduler_runs
WHERE id IN (SELECT MAX(id) FROM scheduler_runs GROUP BY job)`)
	if err != nil {
		return nil, fmt.Errorf("scheduler: last runs: %w", err)
	}
	defer rows.Close()
	out := map[string]RunRecord{}
	for rows.Next() {
		r, err := scanRun(rows, format)
		if err != nil {
			return nil, fmt.Errorf("scheduler: last runs: %w", err)
		}
		out[r.Job] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduler: last runs: %w", err)
	}
	return out, nil
}

// run returns one run with its attempts, or ErrNoRun.
func (s *store) run(ctx context.Context, id int64, format func(job string, ms int64) (time.Time, string)) (RunRecord, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM scheduler_runs WHERE id = $1`, id), format)
	if errors.Is(err, sql.ErrNoRows) {
		return RunRecord{}, fmt.Errorf("run %d: %w", id, ErrNoRun)
	}
	if err != nil {
		return RunRecord{}, fmt.Errorf("scheduler: run %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT attempt, owner, state, started_at, finished_at, row_count, error_text, log_text
FROM scheduler_attempts WHERE run_id = $1 ORDER BY attempt`, id)
	if err != nil {
		return RunRecord{}, fmt.Errorf("scheduler: attempts of run %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AttemptRecord
		var state, logText string
		var started, finished int64
		if err := rows.Scan(&a.Attempt, &a.Owner, &state, &started, &finished, &a.Rows, &a.Error, &logText); err != nil {
			return RunRecord{}, fmt.Errorf("scheduler: attempts of run %d: %w", id, err)
		}
		a.State, a.StartedAt, a.FinishedAt = State(state), msTime(started), msTime(finished)
		if logText != "" {
			a.Log = strings.Split(strings.TrimSuffix(logText, "\n"), "\n")
		}
		r.Attempts = append(r.Attempts, a)
	}
	if err := rows.Err(); err != nil {
		return RunRecord{}, fmt.Errorf("scheduler: attempts of run %d: %w", id, err)
	}
	return r, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner, format func(job string, ms int64) (time.Time, string)) (RunRecord, error) {
	var r RunRecord
	var logical, created, notBefore, started, finished, leaseExp, cancelReq int64
	var trig, state string
	if err := sc.Scan(&r.ID, &r.Job, &logical, &trig, &r.RequestedBy, &state, &r.Attempt, &r.MaxAttempts, &created, &notBefore,
		&started, &finished, &r.Rows, &r.Message, &r.Error, &r.LeaseOwner, &leaseExp,
		&cancelReq, &r.CancelledBy); err != nil {
		return RunRecord{}, err
	}
	r.Trigger, r.State = Trigger(trig), State(state)
	r.Logical, r.Partition = format(r.Job, logical)
	r.CreatedAt, r.StartedAt, r.FinishedAt, r.LeaseExpires = msTime(created), msTime(started), msTime(finished), msTime(leaseExp)
	r.CancelRequested = msTime(cancelReq)
	if r.State == StatePending {
		r.NotBefore = msTime(notBefore)
	}
	return r, nil
}

// msTime is the UTC time of Unix milliseconds, zero for 0.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
