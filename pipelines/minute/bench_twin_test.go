package minute

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// twinStatements compute, from twin_src (the distinct events as dwd_minute_events holds them),
// what the minute pipeline computes: the metrics of every minute, region level, service and app
// (twin_metrics), each user's first event (twin_first_seen) and the new users it makes, and
// the sessions (twin_sessions). Same expressions as the views of migration 0009.
var twinStatements = []string{
	`INSERT INTO twin_metrics (minute, region_code, level, service_id, app, page_views, events, users, new_users, sessions)
SELECT minute, region_code,
    multiIf(region_code = '', '', substring(region_code, 5) = '00000000', 'city', substring(region_code, 7) = '000000', 'district', substring(region_code, 10) = '000', 'street', 'community') AS level,
    service_id, app,
    sumState(toUInt64(type IN ('page', 'screen'))), sumState(toUInt64(1)), uniqCombinedState(user_key), sumState(toInt64(0)),
    uniqCombinedIfState(session_id, session_id != '')
FROM twin_src ARRAY JOIN regions AS region_code
GROUP BY minute, region_code, level, service_id, app`,
	`INSERT INTO twin_first_seen (user_key, first_time, message_id, regions, service_id, app, sign, recorded_at)
SELECT user_key, min(event_time), argMin(message_id, k), argMin(regions, k), argMin(service_id, k), argMin(app, k), toInt8(1), now()
FROM (SELECT user_key, event_time, message_id, regions, service_id, app, toUInt64(event_time) * 1000000 + cityHash64(message_id) % 1000000 AS k
    FROM twin_src WHERE user_key != '')
GROUP BY user_key`,
	`INSERT INTO twin_metrics (minute, region_code, level, service_id, app, new_users)
SELECT toStartOfMinute(first_time) AS minute, region_code,
    multiIf(region_code = '', '', substring(region_code, 5) = '00000000', 'city', substring(region_code, 7) = '000000', 'district', substring(region_code, 10) = '000', 'street', 'community') AS level,
    service_id, app, sumState(toInt64(sign))
FROM twin_first_seen ARRAY JOIN regions AS region_code
GROUP BY minute, region_code, level, service_id, app`,
	`INSERT INTO twin_sessions (day, session_id, started, ended, first_region, first_service, first_app)
SELECT toDate(minute) AS day, session_id, minState(event_time), maxState(event_time),
    argMinState(regions[length(regions)], k), argMinState(service_id, k), argMinState(app, k)
FROM (SELECT minute, session_id, event_time, regions, service_id, app, toUInt64(event_time) * 1000000 + cityHash64(message_id) % 1000000 AS k
    FROM twin_src WHERE session_id != '')
GROUP BY day, session_id`,
}

// sqlTwin copies the pipeline's distinct events into a plain table (not timed) and times
// twinStatements over them; it fails the benchmark unless the twin's totals equal the
// pipeline's (n events, the same new users).
func sqlTwin(b *testing.B, conn driver.Conn, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE twin_src AS dwd_minute_events",
		"CREATE TABLE twin_metrics AS dws_minute_metrics",
		"CREATE TABLE twin_first_seen AS dws_user_first_seen",
		"CREATE TABLE twin_sessions AS dws_minute_sessions",
		`INSERT INTO twin_src (minute, event_time, message_id, type, user_key, session_id, regions, service_id, app, loaded_at)
SELECT minute, event_time, message_id, type, user_key, session_id, regions, service_id, app, loaded_at FROM dwd_minute_events FINAL WHERE is_rollup = 0`,
	} {
		if err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("sql twin: %s: %v", q, err)
		}
	}
	start := time.Now()
	for _, q := range twinStatements {
		if err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("sql twin: %s: %v", q, err)
		}
	}
	took := time.Since(start)
	var pe, te uint64
	var pn, tn int64
	var pu, tu uint64
	if err := conn.QueryRow(ctx, "SELECT sumMerge(events), sumMerge(new_users), uniqCombinedMerge(users) FROM dws_minute_metrics WHERE level = 'city'").Scan(&pe, &pn, &pu); err != nil {
		b.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT sumMerge(events), sumMerge(new_users), uniqCombinedMerge(users) FROM twin_metrics WHERE level = 'city'").Scan(&te, &tn, &tu); err != nil {
		b.Fatal(err)
	}
	if pe != uint64(n) || te != pe || tn != pn || tu != pu {
		b.Fatalf("pipeline: %d events, %d new users, %d users; SQL twin: %d, %d, %d; sent %d events", pe, pn, pu, te, tn, tu, n)
	}
	return took
}
