package offline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // registers the in-process runner

	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/warehouse"
)

// Job names: the scheduler's jobs carry the same names.
const (
	UserDaily     = "user_daily"
	RegionDaily   = "region_daily"
	Retention     = "retention"
	ServiceDaily  = "service_daily"
	CampaignDaily = "campaign_daily"
)

// Options configure the jobs. They are copied into the pipelines' DoFns, so they hold plain
// values only.
type Options struct {
	Warehouse warehouse.Config
	// Runner is the Beam runner ("prism": in-process, or as Beam.Runner); any other name
	// (flink, universal, portable) overrides Beam.Runner.
	Runner string
	// Beam is the process's shared Beam options (pipelines.Config.Beam): runner, job server,
	// workers' environment. Zero: in-process Prism.
	Beam beamrun.Options
	// Source sizes the reads (units, initial splits, blocks); zero values are chsource's defaults.
	Source chsource.Options
	// BatchRows is the insert batch size of the sinks (warehouse default when 0).
	BatchRows int
	// RetentionDays is the last day N of the retention cohorts (cohorts first seen up to that
	// many days before the run's day).
	RetentionDays int
	// Shards is the number of groups users are shuffled in: partial results travel in one
	// batch per shard and bundle, because runners pay per element (Prism ~10 µs) far more than
	// per byte. More shards spread the merge over more workers.
	Shards int
	// FunnelWindow is the longest time, in seconds, from a service's view to the last funnel
	// step counted.
	FunnelWindow int64
}

// DefaultOptions: Prism, day-0…30 retention, a one-hour funnel window, 16 user shards.
func DefaultOptions() Options {
	return Options{Warehouse: warehouse.DefaultConfig(), Runner: "prism", RetentionDays: 30, FunnelWindow: 3600, Shards: 16}
}

// Validate names the bad field.
func (o Options) Validate() error {
	var errs []error
	if o.Runner == "" {
		errs = append(errs, errors.New("runner: empty"))
	} else if err := o.beamOptions("").Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.RetentionDays < 1 || o.RetentionDays > 366 {
		errs = append(errs, fmt.Errorf("retention days %d: want 1…366", o.RetentionDays))
	}
	if o.Shards < 1 || o.Shards > 1<<16 {
		errs = append(errs, fmt.Errorf("shards %d: want 1…65536", o.Shards))
	}
	if o.FunnelWindow < 1 {
		errs = append(errs, fmt.Errorf("funnel window %ds: want at least 1 s", o.FunnelWindow))
	}
	if err := o.Warehouse.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// beamOptions are the options a job runs with: Beam, with Runner overriding it unless prism.
func (o Options) beamOptions(job string) beamrun.Options {
	return o.Beam.Override(o.Runner).Named(job)
}

// Spec describes a job.
type Spec struct {
	Name        string
	Table       string
	Description string
	// After are the offline jobs whose output of the same day the job reads.
	After []string
}

// job is a Spec with what computes it.
type job struct {
	Spec
	// build adds the pipeline that writes the day's rows to the staging table.
	build func(s beam.Scope, opt Options, day, stage string) error
	// check, when set, runs first and fails the run while an input is not ready.
	check func(ctx context.Context, conn driver.Conn, opt Options, day string) error
	// prePublish, when set, runs on the staging table before it is swapped in.
	prePublish func(ctx context.Context, conn driver.Conn, day, stage string) error
}

func jobs() []job {
	return []job{
		{Spec: Spec{Name: UserDaily, Table: "dws_user_daily",
			Description: "per user and day from dwd_events: events, page views, sessions, dwell time, services, region; first days"},
			build: buildUserDaily, prePublish: recordFirstDays},
		{Spec: Spec{Name: RegionDaily, Table: "dws_region_daily", After: []string{UserDaily},
			Description: "per region (all four levels) and day from dws_user_daily: users, new users, visit depth, dwell time"},
			build: buildRegionDaily, check: requireUserDays},
		{Spec: Spec{Name: Retention, Table: "dws_retention_daily", After: []string{UserDaily},
			Description: "day-N retention of first-seen cohorts, from dws_user_daily and dws_user_first_day"},
			build: buildRetention, check: requireUserDays},
		{Spec: Spec{Name: ServiceDaily, Table: "dws_service_daily",
			Description: "per service and day from dwd_events: use and the view → open → complete funnel"},
			build: buildServiceDaily},
		{Spec: Spec{Name: CampaignDaily, Table: "dws_campaign_daily",
			Description: "push precision (opened/delivered per notice) and activity participation (joined/viewed) from dwd_events"},
			build: buildCampaignDaily},
	}
}

// Specs lists the jobs, upstream ones first.
func Specs() []Spec {
	var out []Spec
	for _, j := range jobs() {
		out = append(out, j.Spec)
	}
	return out
}

// ErrUnknownJob is matched by errors about a job name that does not exist.
var ErrUnknownJob = errors.New("no such offline job")

// Result is what one run did.
type Result struct {
	// Job and Day: the day computed, or the date of the hour computed.
	Job, Day string
	// Hour is the start of the hour an hourly job computed (RunHour); zero for daily jobs.
	Hour time.Time
	// Read rows from ClickHouse (the sources' rows_read counters).
	Read int64
	// Rows of the table's day (hour) after the run.
	Rows     int64
	Duration time.Duration
}

// counterNamespace of the jobs' source counters.
const counterNamespace = "offline"

// Run computes one job for one day (YYYY-MM-DD): it runs the job's pipeline into a staging
// copy of the table and replaces the day's partition with it, so a rerun gives the same rows.
func Run(ctx context.Context, opt Options, name, day string) (Result, error) {
	start := time.Now()
	res := Result{Job: name, Day: day}
	if err := opt.Validate(); err != nil {
		return res, fmt.Errorf("offline options: %w", err)
	}
	i := slices.IndexFunc(jobs(), func(j job) bool { return j.Name == name })
	if i < 0 {
		return res, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	j := jobs()[i]
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return res, fmt.Errorf("%s: day %q: want YYYY-MM-DD", name, day)
	}
	day = d.Format(time.DateOnly)
	opt.Source.Namespace = counterNamespace
	conn, err := warehouse.Open(ctx, opt.Warehouse)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if j.check != nil {
		if err := j.check(ctx, conn, opt, day); err != nil {
			return res, fmt.Errorf("%s %s: %w", name, day, err)
		}
	}
	stage := stageName(j.Table, day)
	if err := prepareStage(ctx, conn, j.Table, stage); err != nil {
		return res, fmt.Errorf("%s %s: %w", name, day, err)
	}
	defer dropStage(conn, stage)
	p, s := beam.NewPipelineWithRoot()
	if err := j.build(s.Scope(name), opt, day, stage); err != nil {
		return res, fmt.Errorf("%s %s: build pipeline: %w", name, day, err)
	}
	pr, err := beamrun.Run(ctx, opt.beamOptions("citypulse-"+name+"-"+day), p)
	if err != nil {
		return res, fmt.Errorf("%s %s: pipeline: %w", name, day, err)
	}
	if pr != nil {
		for _, c := range pr.Metrics().AllMetrics().Counters() {
			if c.Key.Namespace == counterNamespace && c.Key.Name == chsource.CounterRows {
				res.Read += c.Result()
			}
		}
	}
	if j.prePublish != nil {
		if err := j.prePublish(ctx, conn, day, stage); err != nil {
			return res, fmt.Errorf("%s %s: %w", name, day, err)
		}
	}
	if err := publish(ctx, conn, j.Table, stage, day); err != nil {
		return res, fmt.Errorf("%s %s: %w", name, day, err)
	}
	if res.Rows, err = dayRows(ctx, conn, j.Table, day); err != nil {
		return res, fmt.Errorf("%s %s: %w", name, day, err)
	}
	res.Duration = time.Since(start)
	return res, nil
}
