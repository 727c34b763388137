package stdjobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citypulse/citypulse/pipelines/offline"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/warehouse"
)

// JobArchive names the job that moves cold months of dwd_events to Parquet files.
const JobArchive = "archive"

// FuncArchive is the archive job's function name in OfflineFuncs.
const FuncArchive = "archive_cold_months"

// archiveJob declares the archive job: on ArchiveSchedule it archives, month by month, every
// month of dwd_events older than ArchiveAfterMonths before the firing's month (offline.Archive:
// Parquet files under ArchiveDir, the partition dropped when ArchiveDrop is set and the files
// hold every row). It is declared disabled while ArchiveAfterMonths is 0.
func archiveJob(cfg OfflineConfig, deps Deps) scheduler.Job {
	return scheduler.Job{
		Name: JobArchive,
		Description: fmt.Sprintf("months of dwd_events older than %d month(s) → Parquet files in %s (partition dropped: %v)",
			cfg.ArchiveAfterMonths, cfg.ArchiveDir, cfg.ArchiveDrop),
		Schedule:  cfg.ArchiveSchedule,
		Partition: scheduler.Instant,
		Run:       archiveRun(cfg, deps),
		Timeout:   cfg.Timeout,
		Disabled:  cfg.ArchiveAfterMonths == 0,
	}
}

// coldMonths lists, as YYYY-MM, the months among partitions (dwd_events' toYYYYMM partition ids)
// that end before the month afterMonths before now's month.
func coldMonths(partitions []string, now time.Time, afterMonths int) ([]string, error) {
	cut := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -afterMonths, 0)
	var out []string
	for _, p := range partitions {
		m, err := time.Parse("200601", p)
		if err != nil {
			return nil, fmt.Errorf("dwd_events partition %q: not YYYYMM", p)
		}
		if m.Before(cut) {
			out = append(out, m.Format("2006-01"))
		}
	}
	return out, nil
}

func archiveRun(cfg OfflineConfig, deps Deps) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		if cfg.ArchiveAfterMonths == 0 {
			return scheduler.RunResult{}, scheduler.Permanent(errors.New("archive is off: set offline-archive-after-months"))
		}
		conn, err := warehouse.Open(ctx, deps.Warehouse)
		if err != nil {
			return scheduler.RunResult{}, err
		}
		defer conn.Close()
		parts, err := monthPartitions(ctx, conn, deps.Warehouse.Database, "dwd_events")
		if err != nil {
			return scheduler.RunResult{}, err
		}
		months, err := coldMonths(parts, run.Logical, cfg.ArchiveAfterMonths)
		if err != nil {
			return scheduler.RunResult{}, scheduler.Permanent(err)
		}
		var total int64
		var done []string
		for _, m := range months {
			res, err := offline.Archive(ctx, deps.Warehouse, m, offline.ArchiveOptions{Dir: cfg.ArchiveDir, Drop: cfg.ArchiveDrop})
			if err != nil {
				return scheduler.RunResult{Rows: total}, fmt.Errorf("archive %s (after %s): %w", m, strings.Join(done, ", "), err)
			}
			total += res.Rows
			done = append(done, m)
			run.Log.Info("archived month", "month", m, "rows", res.Rows, "files", len(res.Files), "dropped", res.Dropped, "dir", cfg.ArchiveDir)
		}
		msg := "no cold month in dwd_events"
		if len(done) > 0 {
			msg = fmt.Sprintf("archived %s to %s", strings.Join(done, ", "), cfg.ArchiveDir)
		}
		return scheduler.RunResult{Rows: total, Message: msg}, nil
	}
}
