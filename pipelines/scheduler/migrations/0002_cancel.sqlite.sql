-- Cancelling runs. A person's cancel request is recorded on the run, so that the instance
-- holding its lease (possibly another process) sees it when it next renews the lease and stops
-- the attempt. A pending run is cancelled at once; state gains the value 'cancelled' (final, no
-- retry), and the attempt that was stopped is recorded as 'cancelled' too.
ALTER TABLE scheduler_runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0; -- when someone asked; 0: never
ALTER TABLE scheduler_runs ADD COLUMN cancelled_by TEXT NOT NULL DEFAULT '';      -- who asked
