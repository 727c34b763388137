package offline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse"
)

// stageName is the staging table of a table's day: one per job and day, so the scheduler's
// one-run-per-job-and-day keeps runs apart, and a crashed run's table is dropped by the next.
func stageName(table, day string) string {
	return "tmp_" + table + "_" + strings.ReplaceAll(day, "-", "")
}

// prepareStage makes an empty staging copy of table (same columns, engine and partitioning).
func prepareStage(ctx context.Context, conn driver.Conn, table, stage string) error {
	if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+warehouse.QuoteIdent(stage)); err != nil {
		return fmt.Errorf("drop old staging table %s: %w", stage, err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s AS %s", warehouse.QuoteIdent(stage), warehouse.QuoteIdent(table))); err != nil {
		return fmt.Errorf("create staging table %s: %w", stage, err)
	}
	return nil
}

// publish collapses rows a retried bundle wrote twice, then swaps the staging table's day in for
// the table's: DROP PARTITION, then ATTACH PARTITION … FROM the staging table (which copies its
// parts by hard links: no data is rewritten). Readers may see the day empty for the moment
// between the two statements, and a crash there leaves it empty until the run is retried.
// REPLACE PARTITION would do both in one step on 18.16, but current ClickHouse refuses it when
// the staging table has no rows for the day (a day without campaign events, say), which must
// empty the day all the same.
func publish(ctx context.Context, conn driver.Conn, table, stage, day string) error {
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+warehouse.QuoteIdent(stage)+" FINAL"); err != nil {
		return fmt.Errorf("optimize staging table %s: %w", stage, err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION ?", warehouse.QuoteIdent(table)), day); err != nil {
		return fmt.Errorf("drop partition %s of %s: %w", day, table, err)
	}
	sql := fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION ? FROM %s", warehouse.QuoteIdent(table), warehouse.QuoteIdent(stage))
	if err := conn.Exec(ctx, sql, day); err != nil {
		return fmt.Errorf("attach partition %s of %s from %s: %w", day, table, stage, err)
	}
	return nil
}

// dropStage removes the staging table; it runs on the way out, on a fresh context, so a
// cancelled run still cleans up (what fails here is dropped by the next run of the day).
func dropStage(conn driver.Conn, stage string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+warehouse.QuoteIdent(stage))
}

// dayRows counts the day's rows of a table.
func dayRows(ctx context.Context, conn driver.Conn, table, day string) (int64, error) {
	var n uint64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s WHERE event_date = toDate(?)", warehouse.QuoteIdent(table)), day).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s on %s: %w", table, day, err)
	}
	return int64(n), nil
}

// recordFirstDays adds the staged day's users to dws_user_first_day (min states: a rerun or an
// out-of-order backfill changes nothing that is not earlier). It runs before the day is
// published, so a published day of dws_user_daily always has its first days recorded.
func recordFirstDays(ctx context.Context, conn driver.Conn, day, stage string) error {
	sql := fmt.Sprintf(`INSERT INTO dws_user_first_day (user_key, first_day)
SELECT user_key, minState(event_date) FROM %s WHERE event_date = toDate(?) GROUP BY user_key`, warehouse.QuoteIdent(stage))
	if err := conn.Exec(ctx, sql, day); err != nil {
		return fmt.Errorf("record first days of %s: %w", day, err)
	}
	return nil
}

// ErrInputMissing is matched by errors of a run whose input days are not computed yet; the
// scheduler's retries wait for them.
var ErrInputMissing = errors.New("input not computed yet")

// requireUserDays fails unless dws_user_daily has every day that has events, from the day
// RetentionDays before day to day itself: new users and cohorts rest on the first days that
// user_daily records, so the days before must be in (a backfill runs them concurrently).
func requireUserDays(ctx context.Context, conn driver.Conn, opt Options, day string) error {
	const sql = `SELECT groupArray(toString(d)) FROM (
SELECT DISTINCT event_date AS d FROM dwd_events WHERE event_date BETWEEN toDate(?) - ? AND toDate(?)
) WHERE d NOT IN (SELECT DISTINCT event_date FROM dws_user_daily WHERE event_date BETWEEN toDate(?) - ? AND toDate(?))`
	var missing []string
	n := opt.RetentionDays
	if err := conn.QueryRow(ctx, sql, day, n, day, day, n, day).Scan(&missing); err != nil {
		return fmt.Errorf("check dws_user_daily days before %s: %w", day, err)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("%w: dws_user_daily lacks %s (run user_daily for them first)", ErrInputMissing, strings.Join(missing, ", "))
	}
	return nil
}
