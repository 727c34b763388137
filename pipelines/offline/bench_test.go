package offline_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/citypulse/citypulse/pipelines/offline"
	"github.com/citypulse/citypulse/warehouse"
)

// BenchmarkDailyBatch times the daily batch over the simulator's history beside the same
// computation done as one ClickHouse INSERT … SELECT per day, in the same run. Not a test: it
// needs a ClickHouse (CITYPULSE_TEST_CLICKHOUSE_ADDR) and loads, once, a database of its own
// (bench_offline_<residents>_<days>, kept for the next run; CITYPULSE_BENCH_RELOAD=1 reloads).
// CITYPULSE_BENCH_RESIDENTS (default 400,000) and CITYPULSE_BENCH_DAYS (default 14) size the
// history: the defaults give about 10M events. Run it once:
//
//	CITYPULSE_TEST_CLICKHOUSE_ADDR=127.0.0.1:19000 go test ./pipelines/offline -run '^$' \
//	    -bench DailyBatch -benchtime 1x -timeout 60m
//
// It runs every job for every day in DAG order, each followed by its SQL twin (the same
// computation from the same inputs as one INSERT … SELECT into a copy of the table), and reports
// the seconds summed over days and jobs: beam_s (whole runs: plan, read, shuffle, staging and
// swap) beside sql_s, their ratio, and each job's ratio.
func BenchmarkDailyBatch(b *testing.B) {
	addr := os.Getenv("CITYPULSE_TEST_CLICKHOUSE_ADDR")
	if addr == "" {
		b.Skip("set CITYPULSE_TEST_CLICKHOUSE_ADDR")
	}
	residents, days := envInt("CITYPULSE_BENCH_RESIDENTS", 400_000), envInt("CITYPULSE_BENCH_DAYS", 14)
	ctx := context.Background()
	cfg := warehouse.DefaultConfig()
	cfg.Addr, cfg.Database = addr, fmt.Sprintf("bench_offline_%d_%d", residents, days)
	dates := loadBench(b, ctx, cfg, residents, days)
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	opt := offline.DefaultOptions()
	opt.Warehouse = cfg
	// Each job's computation in one INSERT … SELECT, from the same inputs.
	type twin struct {
		job, table, sql string
		cols            []string
		args            func(string) []any
	}
	one := func(d string) []any { return []any{d} }
	twins := []twin{
		{offline.UserDaily, "dws_user_daily", userDailySQL, userDailyCols, func(d string) []any { return []any{d, d} }},
		{offline.RegionDaily, "dws_region_daily", regionFromUserDailySQL, regionDailyCols, func(d string) []any { return []any{d, d} }},
		{offline.Retention, "dws_retention_daily", retentionFromTablesSQL, retentionCols, func(d string) []any { return []any{d, d, d, opt.RetentionDays, d} }},
		{offline.ServiceDaily, "dws_service_daily", serviceDailySQL(opt.FunnelWindow), serviceDailyCols, one},
		{offline.CampaignDaily, "dws_campaign_daily", campaignSQL, campaignCols, one},
	}
	for _, tw := range twins {
		for _, sql := range []string{"DROP TABLE IF EXISTS sql_" + tw.table, fmt.Sprintf("CREATE TABLE sql_%s AS %s", tw.table, tw.table)} {
			if err := conn.Exec(ctx, sql); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		beamTime, sqlTime := map[string]time.Duration{}, map[string]time.Duration{}
		var read int64
		for _, day := range dates {
			for _, tw := range twins { // in DAG order: user_daily first
				start := time.Now()
				res, err := offline.Run(ctx, opt, tw.job, day)
				if err != nil {
					b.Fatal(err)
				}
				beamTime[tw.job] += time.Since(start)
				read += res.Read
				insert := fmt.Sprintf("INSERT INTO sql_%s (%s) SELECT * FROM (%s)", tw.table, joinCols(tw.cols), tw.sql)
				start = time.Now()
				if err := conn.Exec(ctx, insert, tw.args(day)...); err != nil {
					b.Fatal(err)
				}
				sqlTime[tw.job] += time.Since(start)
			}
		}
		var beamAll, sqlAll time.Duration
		for _, tw := range twins {
			beamAll, sqlAll = beamAll+beamTime[tw.job], sqlAll+sqlTime[tw.job]
			b.Logf("%-14s Beam %6.2fs  SQL %6.2fs  ratio %.2f", tw.job, beamTime[tw.job].Seconds(), sqlTime[tw.job].Seconds(),
				beamTime[tw.job].Seconds()/sqlTime[tw.job].Seconds())
			b.ReportMetric(beamTime[tw.job].Seconds()/sqlTime[tw.job].Seconds(), tw.job+"_ratio")
		}
		b.Logf("all jobs over %d days (%d rows read): Beam %.2fs, SQL %.2fs, ratio %.2f", len(dates), read,
			beamAll.Seconds(), sqlAll.Seconds(), beamAll.Seconds()/sqlAll.Seconds())
		b.ReportMetric(beamAll.Seconds(), "beam_s")
		b.ReportMetric(sqlAll.Seconds(), "sql_s")
		b.ReportMetric(beamAll.Seconds()/sqlAll.Seconds(), "ratio")
	}
}

func joinCols(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// loadBench loads the history unless the database already holds it, and returns its days.
func loadBench(b *testing.B, ctx context.Context, cfg warehouse.Config, residents, days int) []string {
	b.Helper()
	if _, err := warehouse.Migrate(ctx, cfg, nil); err != nil {
		b.Fatal(err)
	}
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM dwd_events").Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == 0 || os.Getenv("CITYPULSE_BENCH_RELOAD") == "1" {
		if err := conn.Exec(ctx, "TRUNCATE TABLE dwd_events"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		events, rows, err := simLoad(ctx, conn, residents, days, "2026-11-15", 100)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d events (%d rows with 1%% re-delivered) in %s", events, rows, time.Since(start).Round(time.Second))
		if err := conn.Exec(ctx, "OPTIMIZE TABLE dwd_events"); err != nil {
			b.Logf("optimize: %v", err)
		}
	}
	var dates []string
	rows, err := conn.Query(ctx, "SELECT DISTINCT toString(event_date) AS d FROM dwd_events ORDER BY d")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			b.Fatal(err)
		}
		dates = append(dates, d)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM dwd_events").Scan(&n); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d dwd_events rows over %d days", n, len(dates))
	return dates
}
