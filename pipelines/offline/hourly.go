package offline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/warehouse"
)

// RegionHourly is the hourly job's name (the scheduler's job carries the same name).
const RegionHourly = "region_hourly"

// hourRange is the hour a run computes.
type hourRange struct {
	from, to time.Time // [from, to), one hour
	day      string    // from's date in from's zone (the event_date of the hour's events)
	version  int64     // computed_at of the run's rows, Unix seconds
}

// hourlyJob is a Spec with what computes it, for one hour.
type hourlyJob struct {
	Spec
	// build adds the pipeline that writes the hour's rows (event_date, event_hour, …,
	// computed_at = h.version) to the staging table.
	build func(s beam.Scope, opt Options, h hourRange, stage string) error
}

func hourlyJobs() []hourlyJob {
	return []hourlyJob{
		{Spec: Spec{Name: RegionHourly, Table: "dws_region_hourly",
			Description: "per hour, region (all four levels) and service (0: all) from dwd_events: users, events, page views, sessions"},
			build: buildRegionHourly},
	}
}

// HourlySpecs lists the hourly jobs (Specs lists the daily ones).
func HourlySpecs() []Spec {
	var out []Spec
	for _, j := range hourlyJobs() {
		out = append(out, j.Spec)
	}
	return out
}

// RunHour computes one hourly job for the hour that starts at hour (a whole hour in hour's
// location, which must be the events' zone: the hour's events are read from its date's
// event_date). It runs the job's pipeline into a staging copy of the table and adds the copy's
// rows to the table, versioned after the hour's rows already there (see publishHour), so a rerun
// gives the same rows. Result.Rows are the hour's rows after the run.
func RunHour(ctx context.Context, opt Options, name string, hour time.Time) (Result, error) {
	start := time.Now()
	res := Result{Job: name, Hour: hour}
	if err := opt.Validate(); err != nil {
		return res, fmt.Errorf("offline options: %w", err)
	}
	i := slices.IndexFunc(hourlyJobs(), func(j hourlyJob) bool { return j.Name == name })
	if i < 0 {
		return res, fmt.Errorf("%w: %q (hourly)", ErrUnknownJob, name)
	}
	j := hourlyJobs()[i]
	if hour.IsZero() || hour.Minute() != 0 || hour.Second() != 0 || hour.Nanosecond() != 0 {
		return res, fmt.Errorf("%s: hour %s: want the start of an hour", name, hour.Format(time.RFC3339Nano))
	}
	h := hourRange{from: hour, to: hour.Add(time.Hour), day: hour.Format(time.DateOnly)}
	res.Day = h.day
	label := fmt.Sprintf("%s %s", name, hour.Format("2006-01-02T15:04Z07:00"))
	opt.Source.Namespace = counterNamespace
	conn, err := warehouse.Open(ctx, opt.Warehouse)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if h.version, err = nextVersion(ctx, conn, j.Table, h); err != nil {
		return res, fmt.Errorf("%s: %w", label, err)
	}
	stage := "tmp_" + j.Table + "_" + hour.UTC().Format("2006010215")
	if err := prepareStage(ctx, conn, j.Table, stage); err != nil {
		return res, fmt.Errorf("%s: %w", label, err)
	}
	defer dropStage(conn, stage)
	p, s := beam.NewPipelineWithRoot()
	if err := j.build(s.Scope(name), opt, h, stage); err != nil {
		return res, fmt.Errorf("%s: build pipeline: %w", label, err)
	}
	pr, err := beamrun.Run(ctx, opt.beamOptions("citypulse-"+name+"-"+hour.UTC().Format("2006010215")), p)
	if err != nil {
		return res, fmt.Errorf("%s: pipeline: %w", label, err)
	}
	if pr != nil {
		for _, c := range pr.Metrics().AllMetrics().Counters() {
			if c.Key.Namespace == counterNamespace && c.Key.Name == chsource.CounterRows {
				res.Read += c.Result()
			}
		}
	}
	if err := publishHour(ctx, conn, j.Table, stage, h); err != nil {
		return res, fmt.Errorf("%s: %w", label, err)
	}
	if res.Rows, err = hourRows(ctx, conn, j.Table, h); err != nil {
		return res, fmt.Errorf("%s: %w", label, err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// nextVersion is the computed_at of a run's rows: now, or one second after the newest row of
// the hour when that is not earlier (two runs within a second, or a clock that went back), so
// the run's rows always replace the previous run's under FINAL, whatever the engine does with
// equal versions.
func nextVersion(ctx context.Context, conn driver.Conn, table string, h hourRange) (int64, error) {
	var last time.Time
	sql := fmt.Sprintf("SELECT max(computed_at) FROM %s WHERE event_date = toDate(?) AND event_hour = toDateTime(toUInt32(?))", warehouse.QuoteIdent(table))
	if err := conn.QueryRow(ctx, sql, h.day, h.from.Unix()).Scan(&last); err != nil {
		return 0, fmt.Errorf("newest version of %s at %s: %w", table, h.from.Format(time.RFC3339), err)
	}
	return max(time.Now().Unix(), last.Unix()+1), nil
}

// tombstonesSQL adds to the staging table a row of zeros, at the run's version, for every key
// of the hour that the table has (with events) and the run did not compute: with FINAL it
// hides the stale row. Its ? are the staging table's day, the day, the hour (Unix seconds)
// and the day again.
const tombstonesSQL = `INSERT INTO %[1]s (event_date, event_hour, region_code, level, service_id, users, events, page_views, sessions, computed_at)
SELECT event_date, event_hour, region_code, level, service_id, 0, 0, 0, 0, toDateTime(toUInt32(?))
FROM %[2]s FINAL
WHERE event_date = toDate(?) AND event_hour = toDateTime(toUInt32(?)) AND events > 0
    AND (region_code, service_id) NOT IN (SELECT region_code, service_id FROM %[1]s WHERE event_date = toDate(?))`

// publishHour adds the staged hour to the table: zeros for the keys that vanished, then the
// staging table's rows collapsed (a retried bundle's rows written twice), then ALTER TABLE …
// ATTACH PARTITION … FROM the staging table, which adds its parts to the day's partition in one
// step (hard links: no data is rewritten) without touching the day's other hours. Because the
// staged rows are newer versions of the same keys, FINAL then reads the run's rows only. A crash
// before the attach leaves the previous run's rows; after it, the new ones.
func publishHour(ctx context.Context, conn driver.Conn, table, stage string, h hourRange) error {
	sql := fmt.Sprintf(tombstonesSQL, warehouse.QuoteIdent(stage), warehouse.QuoteIdent(table))
	if err := conn.Exec(ctx, sql, h.version, h.day, h.from.Unix(), h.day); err != nil {
		return fmt.Errorf("stage the vanished keys of %s: %w", table, err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+warehouse.QuoteIdent(stage)+" FINAL"); err != nil {
		return fmt.Errorf("optimize staging table %s: %w", stage, err)
	}
	sql = fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION ? FROM %s", warehouse.QuoteIdent(table), warehouse.QuoteIdent(stage))
	if err := conn.Exec(ctx, sql, h.day); err != nil {
		return fmt.Errorf("attach the hour from %s to %s: %w", stage, table, err)
	}
	return nil
}

// hourRows counts the hour's rows (with events) of a table.
func hourRows(ctx context.Context, conn driver.Conn, table string, h hourRange) (int64, error) {
	var n uint64
	sql := fmt.Sprintf("SELECT count() FROM %s FINAL WHERE event_date = toDate(?) AND event_hour = toDateTime(toUInt32(?)) AND events > 0", warehouse.QuoteIdent(table))
	if err := conn.QueryRow(ctx, sql, h.day, h.from.Unix()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s at %s: %w", table, h.from.Format(time.RFC3339), err)
	}
	return int64(n), nil
}
