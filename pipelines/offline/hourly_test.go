package offline_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/pipelines/offline"
)

// regionHourlySQL recounts dws_region_hourly from dwd_events: every event in each level of its
// own region's path, for all services (0) and for its service; its ? are the day, the hour's
// start and end (Unix seconds).
const regionHourlySQL = `SELECT rc.1 AS region_code, rc.2 AS level, svc AS service_id, uniqExact(user_key) AS users,
    count() AS events, countIf(type IN ('page', 'screen')) AS page_views, uniqExactIf(user_key, session_id, session_id != '') AS sessions
FROM (
    SELECT user_key, type, session_id, arrayJoin(` + regionPathSQL + `) AS rc,
        arrayJoin(if(service_id = 0, [toUInt32(0)], [toUInt32(0), service_id])) AS svc
    FROM dwd_events FINAL
    WHERE event_date = toDate(?) AND event_time >= toDateTime(toUInt32(?)) AND event_time < toDateTime(toUInt32(?))
) GROUP BY rc, svc`

var regionHourlyCols = []string{"region_code", "level", "service_id", "users", "events", "page_views", "sessions"}

// The fixture's hand-written events of 2026-11-01 fall in 16:00–22:00 in Shanghai (the
// simulator's event dates are Shanghai dates).
var handHours = func() []time.Time {
	var out []time.Time
	for h := 16; h <= 20; h++ {
		out = append(out, time.Date(2026, 11, 1, h, 0, 0, 0, shanghai))
	}
	return out
}()

// hourRows are dws_region_hourly's rows of the hour with events, formatted (computed_at left out).
func hourRows(t *testing.T, conn driver.Conn, hour time.Time) []string {
	return testenv.QueryStrings(t, conn, rowsSQL(regionHourlyCols, `SELECT * FROM dws_region_hourly FINAL
WHERE event_date = toDate(?) AND event_hour = toDateTime(toUInt32(?)) AND events > 0`), hour.Format(time.DateOnly), hour.Unix())
}

func runHours(t *testing.T, opt offline.Options, hours []time.Time) {
	t.Helper()
	for _, h := range hours {
		res, err := offline.RunHour(testCtx(t), opt, offline.RegionHourly, h)
		if err != nil {
			t.Fatal(err)
		}
		if res.Read == 0 || res.Rows == 0 || res.Day != h.Format(time.DateOnly) || !res.Hour.Equal(h) {
			t.Errorf("%s: %+v, want rows read and written for the hour", h, res)
		}
	}
}

// TestRegionHourlyMatchesSQLRecount: every hour's rows equal the independent SQL recount, and
// the hand-written events give the numbers worked out by hand (re-delivered events count once;
// a user with events in two codes of one street counts once in the street).
func TestRegionHourlyMatchesSQLRecount(t *testing.T) {
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	runHours(t, opt, handHours)
	for _, h := range handHours {
		got := hourRows(t, conn, h)
		want := testenv.QueryStrings(t, conn, rowsSQL(regionHourlyCols, regionHourlySQL), h.Format(time.DateOnly), h.Unix(), h.Add(time.Hour).Unix())
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: %d rows, recount %d: %s", h.Format(time.DateTime), len(got), len(want), diff(got, want))
		}
	}
	cases := []struct {
		hour    int
		regions []string
		want    []string
	}{
		{16, []string{"411002001001"}, []string{"411002001001|community|0|1|1|0|1"}},
		{17, []string{"411002001001"}, []string{"411002001001|community|0|1|3|1|1", "411002001001|community|9005|1|3|1|1"}},
		{18, []string{"411002001001", "411000000000"}, []string{"411000000000|city|0|1|8|1|1", "411000000000|city|9007|1|3|1|1",
			"411002001001|community|0|1|8|1|1", "411002001001|community|9007|1|3|1|1"}},
		{19, []string{"411002001000"}, []string{"411002001000|street|0|1|6|1|1", "411002001000|street|9005|1|3|1|1"}},
		{20, []string{"411003001000", "411003001001"}, []string{"411003001000|street|0|1|3|1|1", "411003001000|street|9009|1|2|1|1",
			"411003001001|community|0|1|2|1|1", "411003001001|community|9009|1|2|1|1"}},
	}
	for _, c := range cases {
		h := time.Date(2026, 11, 1, c.hour, 0, 0, 0, shanghai)
		var got []string
		for _, r := range hourRows(t, conn, h) {
			for _, code := range c.regions {
				if len(r) > len(code) && r[:len(code)+1] == code+"|" {
					got = append(got, r)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%02d:00: %q, want %q", c.hour, got, c.want)
		}
	}
}

// TestRegionHourlyRerunAndBackfill: a rerun of an hour gives the same rows with a newer
// computed_at and hides a key that is no longer computed; a backfill of three hours, run two at
// a time in another order of splitting, reproduces each hour exactly and leaves the day's other
// hours alone; an hour without events is empty.
func TestRegionHourlyRerunAndBackfill(t *testing.T) {
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	hours := handHours[1:4]
	runHours(t, opt, handHours)
	snapshot := map[time.Time][]string{}
	for _, h := range handHours {
		snapshot[h] = hourRows(t, conn, h)
	}
	versions := func(h time.Time) []string {
		return testenv.QueryStrings(t, conn, `SELECT toString(max(computed_at)) FROM dws_region_hourly WHERE event_hour = toDateTime(toUInt32(?))`, h.Unix())
	}
	before := versions(hours[0])
	ctx := testCtx(t)
	if err := conn.Exec(ctx, `INSERT INTO dws_region_hourly (event_date, event_hour, region_code, level, service_id, users, events, computed_at)
SELECT toDate(?), toDateTime(toUInt32(?)), '999999999999', 'community', toUInt32(5), 1, 99, toDateTime(toUInt32(?))`,
		hours[0].Format(time.DateOnly), hours[0].Unix(), hours[0].Unix()); err != nil {
		t.Fatal(err)
	}
	if got := hourRows(t, conn, hours[0]); len(got) != len(snapshot[hours[0]])+1 {
		t.Fatalf("the stale row is not visible before the rerun: %d rows", len(got))
	}

	opt.Source = chsource.Options{UnitRows: 1, SplitRows: 1, BlockRows: 1000}
	opt.Shards = 3
	var wg sync.WaitGroup
	errs := make(chan error, len(hours))
	sem := make(chan struct{}, 2)
	for i := len(hours) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(h time.Time) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := offline.RunHour(ctx, opt, offline.RegionHourly, h); err != nil {
				errs <- err
			}
		}(hours[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, h := range handHours {
		if got := hourRows(t, conn, h); !slices.Equal(got, snapshot[h]) {
			t.Errorf("%s after backfill: %s", h.Format(time.DateTime), diff(got, snapshot[h]))
		}
	}
	if after := versions(hours[0]); after[0] <= before[0] {
		t.Errorf("computed_at %s after the rerun, %s before: want newer", after[0], before[0])
	}
	if n := testenv.QueryStrings(t, conn, "SELECT toString(count()) FROM system.tables WHERE database = currentDatabase() AND name LIKE 'tmp_%'"); n[0] != "0" {
		t.Errorf("%s staging tables left", n[0])
	}

	empty := time.Date(2026, 10, 1, 3, 0, 0, 0, shanghai)
	res, err := offline.RunHour(ctx, opt, offline.RegionHourly, empty)
	if err != nil || res.Rows != 0 || res.Read != 0 {
		t.Errorf("hour without events: %+v, %v; want no rows and no error", res, err)
	}
}

func TestRunHourErrors(t *testing.T) {
	opt := offline.DefaultOptions()
	ctx := testCtx(t)
	hour := time.Date(2026, 11, 1, 16, 0, 0, 0, shanghai)
	if _, err := offline.RunHour(ctx, opt, offline.UserDaily, hour); !errors.Is(err, offline.ErrUnknownJob) {
		t.Errorf("a daily job by the hour: %v, want ErrUnknownJob", err)
	}
	if _, err := offline.Run(ctx, opt, offline.RegionHourly, "2026-11-01"); !errors.Is(err, offline.ErrUnknownJob) {
		t.Errorf("an hourly job by the day: %v, want ErrUnknownJob", err)
	}
	for _, bad := range []time.Time{{}, hour.Add(30 * time.Minute), hour.Add(time.Second)} {
		if _, err := offline.RunHour(ctx, opt, offline.RegionHourly, bad); err == nil {
			t.Errorf("hour %s: no error", bad)
		}
	}
	if specs := offline.HourlySpecs(); len(specs) != 1 || specs[0].Name != offline.RegionHourly || specs[0].Table != "dws_region_hourly" {
		t.Errorf("hourly specs: %+v", specs)
	}
}
