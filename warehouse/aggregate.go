package warehouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// refreshDailySQL recomputes one day of dws_region_service_daily from the deduplicated detail.
const refreshDailySQL = `INSERT INTO dws_region_service_daily (event_date, region_code, service_id, page_views, events, users, computed_at)
SELECT event_date, region_code, service_id, countIf(type IN ('page', 'screen')), count(), uniqCombinedState(user_key), now()
FROM dwd_events FINAL
WHERE event_date = toDate(?)
GROUP BY event_date, region_code, service_id`

// RefreshDaily recomputes dws_region_service_daily for each of the days (the calendar date of each
// time in its own location; repeats are done once) from dwd_events FINAL, in the connection's
// database. The new rows replace the old ones of the same day, region and service
// (ReplacingMergeTree by computed_at), so readers use FINAL and a rerun changes nothing. A region
// and service that no longer have any event that day keep their old row.
func RefreshDaily(ctx context.Context, conn driver.Conn, days []time.Time) error {
	dates := make([]string, 0, len(days))
	for _, d := range days {
		dates = append(dates, d.Format(time.DateOnly))
	}
	slices.Sort(dates)
	for _, date := range slices.Compact(dates) {
		if err := conn.Exec(ctx, refreshDailySQL, date); err != nil {
			return fmt.Errorf("refresh dws_region_service_daily for %s: %w", date, err)
		}
	}
	return nil
}
