package stdjobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/warehouse"
)

// JobMinuteRetention names the job that drops old months of the per-minute tables.
const JobMinuteRetention = "minute_retention"

// FuncMinuteRetention is the minute-retention job's function name in OfflineFuncs.
const FuncMinuteRetention = "drop_old_minutes"

// minuteTables are the streaming job's tables, each partitioned by toYYYYMM of its minute or day.
var minuteTables = []string{"dwd_minute_events", "dws_minute_metrics", "dws_minute_sessions"}

// minuteRetentionJob declares the job: on ArchiveSchedule it drops, from the per-minute tables,
// every month older than MinuteKeepMonths before the firing's month (the daily tables keep the
// history). It is declared disabled while MinuteKeepMonths is 0.
func minuteRetentionJob(cfg OfflineConfig, deps Deps) scheduler.Job {
	return scheduler.Job{
		Name:        JobMinuteRetention,
		Description: fmt.Sprintf("drops months older than %d month(s) from %s", cfg.MinuteKeepMonths, strings.Join(minuteTables, ", ")),
		Schedule:    cfg.ArchiveSchedule,
		Partition:   scheduler.Instant,
		Run:         minuteRetentionRun(cfg, deps),
		Timeout:     cfg.Timeout,
		Disabled:    cfg.MinuteKeepMonths == 0,
	}
}

func minuteRetentionRun(cfg OfflineConfig, deps Deps) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		if cfg.MinuteKeepMonths == 0 {
			return scheduler.RunResult{}, scheduler.Permanent(fmt.Errorf("minute retention is off: set minute-keep-months"))
		}
		conn, err := warehouse.Open(ctx, deps.Warehouse)
		if err != nil {
			return scheduler.RunResult{}, err
		}
		defer conn.Close()
		var dropped []string
		for _, table := range minuteTables {
			parts, err := monthPartitions(ctx, conn, deps.Warehouse.Database, table)
			if err != nil {
				return scheduler.RunResult{}, err
			}
			months, err := coldMonths(parts, run.Logical, cfg.MinuteKeepMonths)
			if err != nil {
				return scheduler.RunResult{}, scheduler.Permanent(err)
			}
			for _, m := range months {
				id := strings.ReplaceAll(m, "-", "")
				if err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %s", warehouse.QuoteIdent(table), id)); err != nil {
					return scheduler.RunResult{}, fmt.Errorf("drop %s of %s (after %s): %w", m, table, strings.Join(dropped, ", "), err)
				}
				dropped = append(dropped, table+" "+m)
				run.Log.Info("dropped old minutes", "table", table, "month", m)
			}
		}
		msg := "nothing older than the kept months"
		if len(dropped) > 0 {
			msg = "dropped " + strings.Join(dropped, ", ")
		}
		return scheduler.RunResult{Rows: int64(len(dropped)), Message: msg}, nil
	}
}

// monthPartitions lists the active partition ids of table (YYYYMM for the tables partitioned
// by month).
func monthPartitions(ctx context.Context, conn driver.Conn, db, table string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE database = ? AND table = ? AND active ORDER BY partition", db, table)
	if err != nil {
		return nil, fmt.Errorf("list %s partitions: %w", table, err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("list %s partitions: %w", table, err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s partitions: %w", table, err)
	}
	return parts, nil
}
