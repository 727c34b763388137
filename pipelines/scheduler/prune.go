package scheduler

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// prunedLog replaces the log of an attempt older than Config.KeepHistory.
const prunedLog = "[log pruned: older than scheduler-keep-history]"

// pruneEvery is how often Run prunes the run history.
const pruneEvery = time.Hour

// supersededOld selects the ids of finished runs that ended before $1 and that a newer run of
// the same job and logical time replaced: the newest run of each (job, logical time) is always
// kept, since dependencies and the status page read it.
const supersededOld = `SELECT r.id FROM scheduler_runs r
WHERE r.state IN ('succeeded', 'failed', 'skipped', 'cancelled') AND r.finished_at > 0 AND r.finished_at < $1
  AND EXISTS (SELECT 1 FROM scheduler_runs n WHERE n.job = r.job AND n.logical_time = r.logical_time AND n.id > r.id)`

// prune deletes superseded runs (and their attempts) that finished before before, and empties
// the logs of attempts that finished before it. It returns how many runs and logs went.
func (s *store) prune(ctx context.Context, before time.Time) (runs, logs int64, err error) {
	ms := before.UnixMilli()
	err = s.ms.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM scheduler_attempts WHERE run_id IN (`+supersededOld+`)`, ms); err != nil {
			return fmt.Errorf("delete attempts of superseded runs: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM scheduler_runs WHERE id IN (`+supersededOld+`)`, ms)
		if err != nil {
			return fmt.Errorf("delete superseded runs: %w", err)
		}
		if runs, err = res.RowsAffected(); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE scheduler_attempts SET log_text = $2
WHERE finished_at > 0 AND finished_at < $1 AND log_text <> $2`, ms, prunedLog)
		if err != nil {
			return fmt.Errorf("prune attempt logs: %w", err)
		}
		logs, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("prune run history: %w", err)
	}
	return runs, logs, nil
}

// Prune applies Config.KeepHistory now: runs that a later run of the same job and logical time
// replaced are deleted once they are older than it, and attempt logs older than it are emptied
// (the runs themselves, their state, timings, rows and errors stay). Run calls it hourly; a
// KeepHistory of 0 keeps everything.
func (s *Scheduler) Prune(ctx context.Context) (runs, logs int64, err error) {
	if s.cfg.KeepHistory <= 0 {
		return 0, 0, nil
	}
	runs, logs, err = s.st.prune(ctx, s.clock.Now().Add(-s.cfg.KeepHistory))
	if err == nil && runs+logs > 0 {
		s.log.Info("pruned run history", "superseded_runs", runs, "logs", logs, "older_than", s.cfg.KeepHistory)
	}
	return runs, logs, err
}
