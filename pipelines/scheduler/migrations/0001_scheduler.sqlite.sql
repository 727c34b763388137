-- The scheduler's part of the metadata store. One row per run of a job for a logical time (its
-- partition), one per attempt of a run. Times are Unix milliseconds; 0 means "not yet".
--
-- A run is executed by whoever holds its lease (lease_owner until lease_expires): an instance
-- takes a pending run, or a running one whose lease expired, by a compare-and-set UPDATE, renews
-- the lease while the attempt lasts, and records the outcome only while it still holds it.
CREATE TABLE scheduler_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job           TEXT    NOT NULL,
    logical_time  BIGINT  NOT NULL, -- start of the partition
    trigger_kind  TEXT    NOT NULL, -- schedule | catch-up | manual | backfill
    sched_key     TEXT    UNIQUE,   -- job@logical_time for runs enqueued by a schedule (at most one each); NULL otherwise
    requested_by  TEXT    NOT NULL,
    state         TEXT    NOT NULL, -- pending | running | succeeded | failed | skipped
    attempt       INTEGER NOT NULL, -- attempts started
    max_attempts  INTEGER NOT NULL,
    created_at    BIGINT  NOT NULL,
    not_before    BIGINT  NOT NULL, -- a pending run starts no earlier (retry backoff)
    started_at    BIGINT  NOT NULL, -- first attempt
    finished_at   BIGINT  NOT NULL,
    row_count     BIGINT  NOT NULL,
    message       TEXT    NOT NULL,
    error_text    TEXT    NOT NULL, -- the last attempt's error, or why the run was skipped
    lease_owner   TEXT    NOT NULL,
    lease_expires BIGINT  NOT NULL
);
CREATE INDEX scheduler_runs_due ON scheduler_runs (state, not_before);
CREATE INDEX scheduler_runs_job ON scheduler_runs (job, logical_time, id);

CREATE TABLE scheduler_attempts (
    run_id      BIGINT  NOT NULL REFERENCES scheduler_runs (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    owner       TEXT    NOT NULL, -- the scheduler instance that ran it
    state       TEXT    NOT NULL, -- running | succeeded | failed | interrupted
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL,
    row_count   BIGINT  NOT NULL,
    error_text  TEXT    NOT NULL,
    log_text    TEXT    NOT NULL, -- the attempt's last log lines
    PRIMARY KEY (run_id, attempt)
);
