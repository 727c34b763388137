package scheduler

import (
	"context"
	"fmt"
	"time"
)

// JobStatus is a job as declared, with its next firing and its newest run.
type JobStatus struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Schedule    string    `json:"schedule,omitempty"`
	Timezone    string    `json:"timezone"`
	Partition   Partition `json:"partition"`
	DependsOn   []string  `json:"depends_on"`
	Timeout     string    `json:"timeout"`
	Retries     int       `json:"retries"`
	Disabled    bool      `json:"disabled,omitempty"`
	// NextRun is the next firing of the schedule (zero without a schedule or when disabled);
	// NextPartition is the logical time it computes.
	NextRun       time.Time  `json:"next_run,omitzero"`
	NextPartition string     `json:"next_partition,omitempty"`
	LastRun       *RunRecord `json:"last_run,omitempty"`
}

// Jobs lists the declared jobs in dependency order (every job after its dependencies).
func (s *Scheduler) Jobs(ctx context.Context) ([]JobStatus, error) {
	last, err := s.st.lastRuns(ctx, s.formatLogical)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := make([]JobStatus, 0, len(s.dag.order))
	for _, name := range s.dag.order {
		j := s.dag.jobs[name]
		st := JobStatus{
			Name: j.Name, Description: j.Description, Schedule: j.Schedule, Timezone: j.loc.String(),
			Partition: j.Partition, DependsOn: append([]string{}, j.DependsOn...), Timeout: j.Timeout.String(),
			Retries: j.maxAttempts - 1, Disabled: j.Disabled,
		}
		if j.sched != nil && !j.Disabled {
			if next := j.sched.Next(now.In(j.loc)); !next.IsZero() {
				st.NextRun, st.NextPartition = next, j.format(j.logicalOf(next))
			}
		}
		if r, ok := last[name]; ok {
			st.LastRun = &r
		}
		out = append(out, st)
	}
	return out, nil
}

// Job returns one job's status, or an error matching ErrUnknownJob.
func (s *Scheduler) Job(ctx context.Context, name string) (JobStatus, error) {
	if _, err := s.lookup(name); err != nil {
		return JobStatus{}, err
	}
	all, err := s.Jobs(ctx)
	if err != nil {
		return JobStatus{}, err
	}
	for _, st := range all {
		if st.Name == name {
			return st, nil
		}
	}
	return JobStatus{}, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
}

// Runs lists recorded runs, newest first. A Job filter must name a declared job.
func (s *Scheduler) Runs(ctx context.Context, f RunFilter) ([]RunRecord, error) {
	if f.Job != "" {
		if _, err := s.lookup(f.Job); err != nil {
			return nil, err
		}
	}
	switch f.State {
	case "", StatePending, StateRunning, StateSucceeded, StateFailed, StateSkipped, StateCancelled:
	default:
		return nil, inputErr("state", "%q: want pending, running, succeeded, failed, skipped or cancelled", f.State)
	}
	return s.st.runs(ctx, f, s.formatLogical)
}

// GetRun returns one run with its attempts and their logs, or an error matching ErrNoRun.
func (s *Scheduler) GetRun(ctx context.Context, id int64) (RunRecord, error) {
	return s.st.run(ctx, id, s.formatLogical)
}

// EnqueueOptions qualify a Trigger or Backfill.
type EnqueueOptions struct {
	// By names who asked, recorded with the runs ("" is "unknown").
	By string
	// NoDownstream enqueues the job alone. By default every job that depends on it, directly
	// or not, is enqueued too for the same logical times (they recompute from its output) and
	// runs after it.
	NoDownstream bool
}

// EnqueueResult is what a Trigger or Backfill enqueued.
type EnqueueResult struct {
	// Runs are the runs the request maps to, per logical time in dependency order: new ones,
	// and ones that were already pending or running for the same job and logical time.
	Runs []RunRecord `json:"runs"`
	// Created counts the new ones.
	Created int `json:"created"`
}

// Trigger enqueues a run of job for the logical time written in logical (see Backfill for the
// forms; "" is the latest complete partition: yesterday for a Day job, the previous hour for an
// Hour job, now for an Instant job), with its dependents unless opts says otherwise. Errors
// about the request are *InputError, ErrUnknownJob or ErrDisabled.
func (s *Scheduler) Trigger(ctx context.Context, job, logical string, opts EnqueueOptions) (EnqueueResult, error) {
	j, err := s.enqueueable(job)
	if err != nil {
		return EnqueueResult{}, err
	}
	l := j.latestComplete(s.clock.Now())
	if logical != "" {
		if l, err = j.parseLogical("logical_time", logical); err != nil {
			return EnqueueResult{}, err
		}
	}
	return s.enqueue(ctx, s.itemsFor(j, l, TriggerManual, by(opts), opts.NoDownstream))
}

// Backfill enqueues one run of job per logical time from from to to, both included, in
// logical-time order and, within one, dependency order (the job, then its dependents unless
// opts says otherwise). from and to are dates (2024-05-01; a date as to includes its whole day),
// dates with an hour (2024-05-01T10:00), or RFC 3339 times, read in the job's zone. Reruns are
// safe only because jobs are idempotent per logical time. Errors about the request are
// *InputError, ErrUnknownJob or ErrDisabled.
func (s *Scheduler) Backfill(ctx context.Context, job, from, to string, opts EnqueueOptions) (EnqueueResult, error) {
	j, err := s.enqueueable(job)
	if err != nil {
		return EnqueueResult{}, err
	}
	per := 1
	if !opts.NoDownstream {
		per += len(j.downstream)
	}
	ls, err := j.partitionsIn(from, to, max(s.cfg.MaxBackfill/per, 1))
	if err != nil {
		return EnqueueResult{}, err
	}
	var items []enqueueItem
	for _, l := range ls {
		items = append(items, s.itemsFor(j, l, TriggerBackfill, by(opts), opts.NoDownstream)...)
	}
	return s.enqueue(ctx, items)
}

func by(opts EnqueueOptions) string {
	if opts.By == "" {
		return "unknown"
	}
	return opts.By
}

func (s *Scheduler) enqueue(ctx context.Context, items []enqueueItem) (EnqueueResult, error) {
	done, err := s.st.enqueue(ctx, items, s.clock.Now())
	if err != nil {
		return EnqueueResult{}, err
	}
	s.countEnqueued(items, done)
	res := EnqueueResult{Runs: []RunRecord{}}
	for _, e := range done {
		if e.Created {
			res.Created++
		}
		r, err := s.GetRun(ctx, e.ID)
		if err != nil {
			return EnqueueResult{}, err
		}
		r.Attempts = nil
		res.Runs = append(res.Runs, r)
	}
	s.wakeUp()
	return res, nil
}

func (s *Scheduler) lookup(name string) (*job, error) {
	j, ok := s.dag.jobs[name]
	if !ok {
		return nil, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
	}
	return j, nil
}

func (s *Scheduler) enqueueable(name string) (*job, error) {
	j, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if j.Disabled {
		return nil, fmt.Errorf("job %s: %w", name, ErrDisabled)
	}
	return j, nil
}

// formatLogical reads a stored logical time for a record: in the job's zone and partition, or
// as UTC RFC 3339 for a job this binary does not declare.
func (s *Scheduler) formatLogical(name string, ms int64) (time.Time, string) {
	if j, ok := s.dag.jobs[name]; ok {
		t := time.UnixMilli(ms).In(j.loc)
		return t, j.format(t)
	}
	t := time.UnixMilli(ms).UTC()
	return t, t.Format(time.RFC3339)
}
