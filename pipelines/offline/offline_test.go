package offline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/pipelines/offline"
	"github.com/citypulse/citypulse/warehouse"
)

var days = []string{"2026-11-01", "2026-11-02", "2026-11-03"}

// handEvents are the edge cases, on top of the simulator's days: sessions, a funnel out of
// order and one past its window, regions missing, tied and at street level, campaigns, and
// events without session or service.
var handEvents = []ev{
	// u1, day 1: an event without region first; funnel view → open → complete on service 5;
	// view → complete (no open) on service 7; push delivered and opened; activity viewed and joined.
	{id: "h01", at: "2026-11-01 08:00:00", typ: "track", event: "app_start", user: "u1", session: "s1"},
	{id: "h02", at: "2026-11-01 08:59:00", typ: "identify", user: "u1", session: "s1", region: "411002001001"},
	{id: "h03", at: "2026-11-01 09:00:00", typ: "screen", event: "社保查询", user: "u1", session: "s1", region: "411002001001", service: 9005},
	{id: "h04", at: "2026-11-01 09:00:10", typ: "track", event: "service_open", user: "u1", session: "s1", region: "411002001001", service: 9005},
	{id: "h05", at: "2026-11-01 09:01:00", typ: "track", event: "service_complete", user: "u1", session: "s1", region: "411002001001", service: 9005, props: `{"duration_ms":50000,"service_id":9005}`},
	{id: "h06", at: "2026-11-01 10:00:00", typ: "page", event: "公积金", user: "u1", session: "s2", region: "411002001001", service: 9007},
	{id: "h07", at: "2026-11-01 10:00:30", typ: "track", event: "service_complete", user: "u1", session: "s2", region: "411002001001", service: 9007},
	{id: "h08", at: "2026-11-01 10:01:00", typ: "track", event: "search", user: "u1", session: "s2", region: "411002001001", service: 9007, props: `{"query":"公积金"}`},
	{id: "h09", at: "2026-11-01 10:02:00", typ: "track", event: "notice_delivered", user: "u1", region: "411002001001", props: `{"notice_id":"n001","channel":"push"}`},
	{id: "h10", at: "2026-11-01 10:03:00", typ: "track", event: "notice_click", user: "u1", region: "411002001001", props: `{"notice_id":"n001","channel":"push"}`},
	{id: "h11", at: "2026-11-01 10:04:00", typ: "track", event: "notice_delivered", user: "u1", region: "411002001001", props: `{"notice_id":"n001","channel":"sms"}`},
	{id: "h12", at: "2026-11-01 10:05:00", typ: "track", event: "activity_view", user: "u1", region: "411002001001", props: `{"activity_id":"act1"}`},
	{id: "h13", at: "2026-11-01 10:06:00", typ: "track", event: "activity_join", user: "u1", region: "411002001001", props: `{"activity_id":"act1"}`},
	// a2, anonymous, day 1: open before view (funnel reaches the view only); push delivered, not
	// opened; joins the activity without a view; a delivery without notice id (not counted).
	{id: "h20", at: "2026-11-01 11:00:00", typ: "track", event: "service_open", anon: "a2", session: "s3", region: "411002001002", service: 9005},
	{id: "h21", at: "2026-11-01 11:00:05", typ: "page", event: "社保查询", anon: "a2", session: "s3", region: "411002001002", service: 9005},
	{id: "h22", at: "2026-11-01 11:00:30", typ: "track", event: "service_complete", anon: "a2", session: "s3", region: "411002001002", service: 9005},
	{id: "h23", at: "2026-11-01 11:01:00", typ: "track", event: "notice_delivered", anon: "a2", region: "411002001002", props: `{"notice_id":"n001","channel":"push"}`},
	{id: "h24", at: "2026-11-01 11:02:00", typ: "track", event: "activity_join", anon: "a2", region: "411002001002", props: `{"activity_id":"act1"}`},
	{id: "h25", at: "2026-11-01 11:03:00", typ: "track", event: "notice_delivered", anon: "a2", region: "411002001002", props: `{"channel":"push"}`},
	// u3, day 1: two regions at the same second (the smaller code wins), one of them a street's
	// own code; a funnel whose complete comes past the hour; a click without delivery; a view.
	{id: "h30", at: "2026-11-01 12:00:00", typ: "screen", event: "交通", user: "u3", session: "s4", region: "411003001001", service: 9009},
	{id: "h31", at: "2026-11-01 12:00:00", typ: "track", event: "x", user: "u3", session: "s4", region: "411003001000"},
	{id: "h32", at: "2026-11-01 12:30:00", typ: "track", event: "service_open", user: "u3", session: "s4", region: "411003001001", service: 9009},
	{id: "h33", at: "2026-11-01 13:00:01", typ: "track", event: "service_complete", user: "u3", session: "s5", region: "411003001001", service: 9009},
	{id: "h34", at: "2026-11-01 13:01:00", typ: "track", event: "notice_click", user: "u3", region: "411003001001", props: `{"notice_id":"n001","channel":"push"}`},
	{id: "h35", at: "2026-11-01 13:02:00", typ: "track", event: "activity_view", user: "u3", region: "411003001001", props: `{"activity_id":"act1"}`},
	// u4, day 1: no region, no session.
	{id: "h40", at: "2026-11-01 14:00:00", typ: "page", event: "首页", user: "u4"},
	{id: "h41", at: "2026-11-01 14:00:09", typ: "page", event: "办事", user: "u4", service: 9012},
	// Day 2: u1 again (retained), u5 new. Day 3: u1 and u5.
	{id: "h50", at: "2026-11-02 09:00:00", typ: "screen", event: "社保查询", user: "u1", session: "s6", region: "411002001001", service: 9005},
	{id: "h51", at: "2026-11-02 09:30:00", typ: "screen", event: "社保查询", user: "u5", session: "s7", region: "411002001003", service: 9005},
	{id: "h60", at: "2026-11-03 09:00:00", typ: "screen", event: "社保查询", user: "u1", session: "s8", region: "411002001001", service: 9005},
	{id: "h61", at: "2026-11-03 09:10:00", typ: "track", event: "service_open", user: "u5", session: "s9", region: "411002001003", service: 9005},
	// Day 2's campaign: notice n002 in the inbox; day 3 has none (an empty day).
	{id: "h70", at: "2026-11-02 10:00:00", typ: "track", event: "notice_delivered", user: "u1", region: "411002001001", props: `{"notice_id":"n002","channel":"inbox"}`},
	{id: "h71", at: "2026-11-02 10:00:00", typ: "track", event: "notice_delivered", user: "u5", region: "411002001003", props: `{"notice_id":"n002","channel":"inbox"}`},
	{id: "h72", at: "2026-11-02 10:05:00", typ: "track", event: "notice_click", user: "u5", region: "411002001003", props: `{"channel":"inbox","notice_id":"n002","position":3}`},
}

// handDuplicates are re-deliveries of handEvents (same message id and content), written later.
var handDuplicates = []string{"h03", "h10", "h24", "h50"}

// fixture is a migrated database with the simulator's three days (a few hundred residents, 2%
// of events re-delivered) and the hand-written events, some of them re-delivered.
func fixture(t *testing.T) (warehouse.Config, driver.Conn) {
	t.Helper()
	cfg, conn := testenv.Warehouse(t)
	if _, _, err := simLoad(testCtx(t), conn, 300, 3, "2026-11-04", 50); err != nil {
		t.Fatal(err)
	}
	loaded := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	insertEvents(t, conn, handEvents, loaded)
	var dups []ev
	for _, e := range handEvents {
		if slices.Contains(handDuplicates, e.id) {
			dups = append(dups, e)
		}
	}
	insertEvents(t, conn, dups, loaded.Add(time.Hour))
	return cfg, conn
}

func testOptions(cfg warehouse.Config) offline.Options {
	opt := offline.DefaultOptions()
	opt.Warehouse = cfg
	// Small units and splits, so even the test's days are read in many pieces.
	opt.Source = chsource.Options{UnitRows: 150, SplitRows: 400, BlockRows: 64}
	return opt
}

// runAll runs every job for every day, upstream jobs first.
func runAll(t *testing.T, opt offline.Options) {
	t.Helper()
	for _, day := range days {
		for _, spec := range offline.Specs() {
			res, err := offline.Run(testCtx(t), opt, spec.Name, day)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Name == offline.UserDaily && res.Read == 0 {
				t.Errorf("%s %s read no rows", spec.Name, day)
			}
		}
	}
}

// recount is a job's table beside its independent SQL recount.
type recount struct {
	job, table string
	cols       []string
	sql        string
	args       func(day string) []any
}

func recounts(opt offline.Options) []recount {
	one := func(day string) []any { return []any{day} }
	return []recount{
		{offline.UserDaily, "dws_user_daily", userDailyCols, userDailySQL, func(d string) []any { return []any{d, d} }},
		{offline.RegionDaily, "dws_region_daily", regionDailyCols, regionDailySQL, func(d string) []any { return []any{d, d, d, d} }},
		{offline.Retention, "dws_retention_daily", retentionCols, retentionSQL, func(d string) []any { return []any{d, d, d, d, opt.RetentionDays} }},
		{offline.ServiceDaily, "dws_service_daily", serviceDailyCols, serviceDailySQL(opt.FunnelWindow), one},
		{offline.CampaignDaily, "dws_campaign_daily", campaignCols, campaignSQL, one},
		// The benchmark's baselines, from the jobs' own inputs, must agree too.
		{offline.RegionDaily, "dws_region_daily", regionDailyCols, regionFromUserDailySQL, func(d string) []any { return []any{d, d} }},
		{offline.Retention, "dws_retention_daily", retentionCols, retentionFromTablesSQL, func(d string) []any { return []any{d, d, d, opt.RetentionDays, d} }},
	}
}

// tableRows are a table's rows of the day, formatted (computed_at left out).
func tableRows(t *testing.T, conn driver.Conn, r recount, day string) []string {
	return testenv.QueryStrings(t, conn, rowsSQL(r.cols, fmt.Sprintf("SELECT * FROM %s FINAL WHERE event_date = toDate(?)", r.table)), day)
}

// TestJobsMatchSQLRecount: every job's rows, every day, equal an independent SQL recount.
func TestJobsMatchSQLRecount(t *testing.T) {
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	runAll(t, opt)
	for k, r := range recounts(opt) {
		rows := 0
		for _, day := range days {
			t.Run(fmt.Sprintf("%s/%d/%s", r.job, k, day), func(t *testing.T) {
				got := tableRows(t, conn, r, day)
				want := testenv.QueryStrings(t, conn, rowsSQL(r.cols, r.sql), r.args(day)...)
				rows += len(want)
				if !slices.Equal(got, want) {
					t.Errorf("%d rows, recount %d: %s", len(got), len(want), diff(got, want))
				}
			})
		}
		if rows == 0 {
			t.Errorf("%s: the recount has no rows on any day: the fixture misses this job", r.job)
		}
	}
}

// TestJobsHandCases checks the hand-written cases against numbers worked out by hand, so the
// recount SQL is checked too; re-delivered events count once.
func TestJobsHandCases(t *testing.T) {
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	runAll(t, opt)
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"u1 day 1: 13 events (h03, h10 re-delivered), 4 views… ", `SELECT concat(user_id, '|', region_code, '|', toString(events), '|', toString(page_views), '|',
toString(sessions), '|', toString(dwell_seconds), '|', toString(services)) FROM dws_user_daily FINAL WHERE event_date = '2026-11-01' AND user_key = 'u1'`,
			[]string{"u1|411002001001|13|2|2|3720|[9005,9007]"}},
		{"a2 anonymous, u3 tie to the smaller code, u4 no region", `SELECT concat(user_key, '|', user_id, '|', region_code, '|', toString(sessions), '|', toString(dwell_seconds))
FROM dws_user_daily FINAL WHERE event_date = '2026-11-01' AND user_key IN ('a2', 'u3', 'u4') ORDER BY user_key`,
			[]string{"a2||411002001002|1|30", "u3|u3|411003001000|2|1800", "u4|u4||0|0"}},
		{"funnels: service 9005 (u1 all steps, a2 view only), 9007 (view), 9009 (view, open: complete past the hour)", `SELECT concat(toString(service_id), '|',
toString(funnel_view), '|', toString(funnel_open), '|', toString(funnel_complete)) FROM dws_service_daily FINAL
WHERE event_date = '2026-11-01' AND service_id IN (9005, 9007, 9009) ORDER BY service_id`,
			[]string{"9005|2|1|1", "9007|1|0|0", "9009|1|1|0"}},
		{"push precision and activity participation", `SELECT concat(kind, '|', campaign_id, '|', channel, '|', toString(reached_users), '|', toString(acted_users), '|',
toString(converted_users), '|', toString(actions), '|', toString(rate)) FROM dws_campaign_daily FINAL WHERE event_date = '2026-11-01' ORDER BY kind, campaign_id, channel`,
			[]string{"activity|act1||2|2|1|2|0.5", "push|n001|push|2|2|1|2|0.5", "push|n001|sms|1|0|0|0|0"}},
		{"u5 new on day 2, in its community's whole path", `SELECT concat(region_code, '|', level, '|', toString(users), '|', toString(new_users))
FROM dws_region_daily FINAL WHERE event_date = '2026-11-02' AND region_code IN ('411002001003', '411002001000', '411000000000') ORDER BY region_code`,
			[]string{"411000000000|city|2|1", "411002001000|street|2|1", "411002001003|community|1|1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := testenv.QueryStrings(t, conn, c.sql); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// Retention: u1 (first seen on day 1) is back on days 2 and 3.
	got := testenv.QueryStrings(t, conn, `SELECT toString(retained_users >= 1) FROM dws_retention_daily FINAL
WHERE event_date = '2026-11-03' AND cohort_date = '2026-11-01' AND day_n = 2`)
	if !slices.Equal(got, []string{"1"}) {
		t.Errorf("day-2 retention of the day-1 cohort: %q, want one row with u1 retained", got)
	}
}

// TestBackfillReproducesDays: rerunning every job over the range (after a stale row was slipped
// into a day) gives the same rows, row for row.
func TestBackfillReproducesDays(t *testing.T) {
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	runAll(t, opt)
	snapshot := map[string][]string{}
	for _, r := range recounts(opt) {
		for _, day := range days {
			snapshot[r.table+day] = tableRows(t, conn, r, day)
		}
	}
	ctx := testCtx(t)
	if err := conn.Exec(ctx, `INSERT INTO dws_user_daily (event_date, user_key, events, computed_at)
SELECT toDate('2026-11-02'), 'stale-user', 99, now()`); err != nil {
		t.Fatal(err)
	}
	// Backfill in another order of splitting too.
	opt.Source = chsource.Options{UnitRows: 1, SplitRows: 1, BlockRows: 1000}
	runAll(t, opt)
	for _, r := range recounts(opt) {
		for _, day := range days {
			if got := tableRows(t, conn, r, day); !slices.Equal(got, snapshot[r.table+day]) {
				t.Errorf("%s %s after backfill: %s", r.table, day, diff(got, snapshot[r.table+day]))
			}
		}
	}
	if n := testenv.QueryStrings(t, conn, "SELECT toString(count()) FROM system.tables WHERE database = currentDatabase() AND name LIKE 'tmp_%'"); n[0] != "0" {
		t.Errorf("%s staging tables left", n[0])
	}
}

// TestRunErrors: unknown jobs and days, and a roll-up before its user_daily days exist.
func TestRunErrors(t *testing.T) {
	cfg, _ := fixture(t)
	opt := testOptions(cfg)
	ctx := testCtx(t)
	if _, err := offline.Run(ctx, opt, "nope", days[0]); !errors.Is(err, offline.ErrUnknownJob) {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := offline.Run(ctx, opt, offline.UserDaily, "1 Nov"); err == nil {
		t.Error("bad day: no error")
	}
	if _, err := offline.Run(ctx, opt, offline.UserDaily, days[1]); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{offline.RegionDaily, offline.Retention} {
		_, err := offline.Run(ctx, opt, job, days[1])
		if !errors.Is(err, offline.ErrInputMissing) || !strings.Contains(err.Error(), days[0]) {
			t.Errorf("%s before user_daily of %s: %v, want ErrInputMissing naming it", job, days[0], err)
		}
	}
	bad := opt
	bad.RetentionDays, bad.Runner = 0, ""
	if _, err := offline.Run(context.Background(), bad, offline.UserDaily, days[0]); err == nil {
		t.Error("bad options: no error")
	}
}
