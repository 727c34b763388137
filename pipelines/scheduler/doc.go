// Package scheduler is CityPulse's unified scheduler (统一调度): it runs the batch jobs declared
// in code (Job, with an optional YAML file overriding or adding declarations) on five-field cron
// schedules (pipelines/scheduler/cron) in the city's time zone, each run computing one logical
// time (the day or hour it is for), after the job's dependencies (a DAG, checked for cycles when
// declared) succeeded for the same logical time, with a timeout and retries with exponential
// backoff. Every run and attempt, with its state, timings, rows, error and a bounded log, is
// recorded in the metadata store (internal/metastore, SQLite or PostgreSQL); after
// scheduler-keep-history (90 days) attempt logs are emptied and runs a rerun replaced deleted,
// the newest run of each job and logical time staying for dependencies. Firings missed while
// the platform was down run on start (bounded look-back); a backfill enqueues one run per logical
// time of a range, in dependency order. A person may cancel a run, or every queued and running
// run of a job (of a range of logical times): a queued run ends cancelled at once, a running
// one is stopped through its context (context.Cause is ErrCancelled) by the instance executing
// it, which sees the request recorded in the store at its next lease renewal, and ends
// cancelled without a retry; the pending runs of its downstream jobs for the same logical time
// are cancelled with it.
//
// Several instances may run on one store: a run executes under a lease in the store (acquired
// with a compare-and-set, renewed while the run lasts, fenced on completion), so each run executes
// once, and a crashed holder's run is taken over when its lease expires. The package owns the
// scheduler_* tables and nothing else; it does not know what a job computes (the standard jobs
// live in pipelines/scheduler/stdjobs) and it serves no HTTP itself (apiserver/jobs*.go does).
// Jobs must be idempotent per logical time: a rerun, a retry or a taken-over run recomputes the
// same partition.
package scheduler
