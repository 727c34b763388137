package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Partition is what one run of a job computes: the granularity of its logical time.
type Partition string

// The partitions a job can have.
const (
	// Day: a run computes one calendar day in the job's zone. A firing computes the day before
	// the day it fires in (the 00:30 firing of 2 May computes 1 May).
	Day Partition = "day"
	// Hour: a run computes one hour. A firing computes the hour before the one it fires in.
	Hour Partition = "hour"
	// Instant: a run is for its firing time itself (to the minute); for jobs that are not
	// partitioned, such as a clean-up.
	Instant Partition = "instant"
)

// Trigger says why a run exists.
type Trigger string

// The triggers of runs.
const (
	TriggerSchedule Trigger = "schedule" // the job's schedule fired (or an upstream job's fired; see Job.DependsOn)
	TriggerCatchUp  Trigger = "catch-up" // a firing missed while no scheduler ran, run on start
	TriggerManual   Trigger = "manual"   // someone asked (API, CLI)
	TriggerBackfill Trigger = "backfill" // one logical time of a backfilled range
)

// State is where a run (or an attempt) is.
type State string

// The states of runs and attempts.
const (
	StatePending     State = "pending"     // waiting for its time, its dependencies, a retry's backoff or a free slot
	StateRunning     State = "running"     // an attempt holds the lease
	StateSucceeded   State = "succeeded"   // the last attempt succeeded
	StateFailed      State = "failed"      // every attempt failed, or the error was permanent
	StateSkipped     State = "skipped"     // a dependency failed, was cancelled or never ran for the logical time
	StateCancelled   State = "cancelled"   // someone cancelled it (or the upstream run it waited for); never retried
	StateInterrupted State = "interrupted" // attempts only: the scheduler stopped; the run goes back to pending
)

// Terminal reports whether no more attempts follow.
func (s State) Terminal() bool {
	return s == StateSucceeded || s == StateFailed || s == StateSkipped || s == StateCancelled
}

// Run is what a job's function is told about the run it executes.
type Run struct {
	ID  int64
	Job string
	// Logical is the start of the partition the run computes, in the job's zone: midnight of the
	// day for Day, the hour for Hour, the firing minute for Instant. End is the end of the
	// partition (exclusive; equal to Logical for Instant).
	Logical, End time.Time
	// Attempt counts from 1.
	Attempt int
	Trigger Trigger
	// Log writes to the scheduler's log (with the job, run and attempt) and to the attempt's
	// log kept in the metadata store (the last Config.MaxLogLines lines).
	Log *slog.Logger
}

// Day is the logical date as YYYY-MM-DD, handy for Day jobs.
func (r Run) Day() string { return r.Logical.Format(time.DateOnly) }

// RunResult is what a successful run reports.
type RunResult struct {
	// Rows the run wrote (or handled), recorded with the run.
	Rows int64
	// Message is a short note recorded with the run (e.g. "3 days refreshed").
	Message string
}

// RunFunc computes one logical time. It must be idempotent: a retry, a rerun or a backfill calls
// it again for the same logical time. It must return when ctx ends (timeout, lost lease,
// shutdown, or a person's cancel, when context.Cause(ctx) matches ErrCancelled).
type RunFunc func(ctx context.Context, run Run) (RunResult, error)

// Job is a job declaration. Name and Run are required; the zero values of the rest are the
// defaults documented per field.
type Job struct {
	// Name is unique: a-z, 0-9, _ and -, up to 64 characters.
	Name string
	// Description is one line for people.
	Description string
	// Schedule is a five-field cron expression (or macro), read in Timezone. Empty: the job
	// runs only when triggered, backfilled, or enqueued because an upstream job ran. A firing
	// enqueues the run of the partition it computes (see Partition) unless a firing already
	// did: a Day job firing hourly still runs once per day.
	Schedule string
	// Timezone is an IANA zone name; "" is the scheduler's (Asia/Shanghai by default).
	Timezone string
	// Partition is what one run computes; "" is Day.
	Partition Partition
	// DependsOn names the jobs whose run for the same logical time must have succeeded before
	// this job's run starts. They must have the same Partition and Timezone. When an upstream
	// run is enqueued by its schedule, runs of dependents without a schedule of their own are
	// enqueued with it; a manual trigger or backfill enqueues every dependent (see Enqueue).
	DependsOn []string
	// Run computes one logical time.
	Run RunFunc
	// Timeout bounds one attempt; 0 is the scheduler's DefaultTimeout.
	Timeout time.Duration
	// Retries is how many more attempts follow a failed one; 0 is the scheduler's
	// DefaultRetries, NoRetries (or any negative value) is none.
	Retries int
	// Backoff is the pause before the first retry, doubled for each next one up to MaxBackoff;
	// 0 is the scheduler's DefaultBackoff.
	Backoff time.Duration
	// MaxBackoff caps the pause; 0 is 32 × Backoff.
	MaxBackoff time.Duration
	// Disabled jobs are declared (others may depend on them) but nothing of theirs is enqueued
	// by schedule or run.
	Disabled bool
}

// NoRetries as Job.Retries: one attempt only.
const NoRetries = -1

// permanentError marks an error not worth retrying.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the run fails at once, without its remaining retries (a bad
// configuration, a partition that cannot exist).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ErrUnknownJob is matched by errors about a job name that is not declared.
var ErrUnknownJob = errors.New("no such job")

// ErrDisabled is matched by errors about enqueuing a disabled job.
var ErrDisabled = errors.New("job is disabled")

// ErrNoRun is matched by errors about a run id that does not exist.
var ErrNoRun = errors.New("no such run")

// ErrFinished is matched by errors about cancelling a run that has already ended (succeeded,
// failed, skipped or cancelled). The API answers 409.
var ErrFinished = errors.New("run already finished")

// ErrCancelled is the cause (context.Cause) of the context of an attempt stopped because a
// person cancelled its run.
var ErrCancelled = errors.New("run cancelled")

// InputError is a bad request from a person (a date that does not parse, a range too long); it
// names the field. Callers show it; the API answers 400.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
