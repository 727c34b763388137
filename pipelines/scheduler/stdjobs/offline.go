package stdjobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/pipelines/offline"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// Names of the offline engine's daily jobs (pipelines/offline), for dependencies declared
// elsewhere: user_daily, service_daily and campaign_daily run after events; region_daily and
// retention after user_daily.
const (
	JobUserDaily     = offline.UserDaily
	JobRegionDaily   = offline.RegionDaily
	JobRetention     = offline.Retention
	JobServiceDaily  = offline.ServiceDaily
	JobCampaignDaily = offline.CampaignDaily
)

// Names of the hourly jobs: events_hourly (the events pipeline has caught up, on
// OfflineConfig.HourlySchedule) → region_hourly (pipelines/offline, dws_region_hourly).
const (
	JobEventsHourly = "events_hourly"
	JobRegionHourly = offline.RegionHourly
)

// hourlyEventsPoll is how often events_hourly looks at the events pipeline's progress.
const hourlyEventsPoll = 5 * time.Second

// FuncOffline prefixes the function names of the offline jobs in OfflineFuncs: "offline_" + the
// job's name, for jobs declared in a jobs file.
const FuncOffline = "offline_"

// OfflineConfig tunes the offline engine's daily jobs.
type OfflineConfig struct {
	// Runner is the Beam runner the jobs' pipelines run on.
	Runner string `flag:"offline-runner" help:"Beam runner of the offline daily jobs (prism = in-process)"`
	// UnitRows and SplitRows size the jobs' ClickHouse reads (chsource.Options); 0 is chsource's default.
	UnitRows  int64 `flag:"offline-unit-rows" help:"rows per read unit (one ClickHouse query) of the offline jobs (0: 250000)"`
	SplitRows int64 `flag:"offline-split-rows" help:"rows per initial split of an offline job's read, the pieces a runner spreads over workers (0: 2000000)"`
	// RetentionDays is the last day N of the retention cohorts.
	RetentionDays int `flag:"offline-retention-days" help:"last day N of the day-N retention cohorts"`
	// FunnelWindow is the longest time from a service view to the last funnel step counted.
	FunnelWindow time.Duration `flag:"offline-funnel-window" help:"longest time from a service view to the last step of the service funnel"`
	// Timeout bounds one attempt of a job.
	Timeout time.Duration `flag:"offline-timeout" help:"time limit of one attempt of an offline daily or hourly job"`

	// HourlySchedule is when events_hourly fires, each firing for the hour before (region_hourly
	// runs after it); "" leaves the hourly jobs to triggers and backfills.
	HourlySchedule string `flag:"offline-hourly-schedule" help:"cron schedule of the hourly jobs, each firing computing the hour before (empty: only when triggered or backfilled)"`
	// HourlyWait bounds how long events_hourly waits for the events pipeline to catch up.
	HourlyWait time.Duration `flag:"offline-hourly-wait" help:"how long the hourly events check waits for the events pipeline to catch up before it fails (and is retried)"`

	// ArchiveAfterMonths turns on the archive job: months of dwd_events that ended more than this
	// many months before the run's month go to Parquet files. 0 leaves the job disabled.
	ArchiveAfterMonths int `flag:"offline-archive-after-months" help:"archive months of dwd_events older than this many months to Parquet (0: archive job off)"`
	// ArchiveDir receives the archive files.
	ArchiveDir string `flag:"offline-archive-dir" help:"directory of the Parquet archives of cold dwd_events months"`
	// ArchiveDrop drops an archived month's partition once its files hold every row.
	ArchiveDrop bool `flag:"offline-archive-drop" help:"drop an archived month from dwd_events once its Parquet files hold every row"`
	// ArchiveSchedule is when the archive job runs (and the minute-retention job).
	ArchiveSchedule string `flag:"offline-archive-schedule" help:"cron schedule of the monthly archive and minute-retention jobs"`
	// MinuteKeepMonths turns on the minute-retention job: months of the per-minute tables that
	// ended more than this many months before the run's month are dropped. 0: kept forever.
	MinuteKeepMonths int `flag:"minute-keep-months" help:"drop months of the per-minute tables older than this many months (0: keep all)"`
}

// DefaultOfflineConfig: in-process Prism, 30 days of retention, a one-hour funnel window,
// 30-minute attempts; the hourly jobs at 5 past every hour, waiting up to 10 minutes for the
// events pipeline; the archive job off (when turned on: var/archive, monthly on the 2nd at
// 03:30, partitions dropped once archived); three months of per-minute metrics.
func DefaultOfflineConfig() OfflineConfig {
	o := offline.DefaultOptions()
	return OfflineConfig{Runner: o.Runner, RetentionDays: o.RetentionDays, FunnelWindow: time.Duration(o.FunnelWindow) * time.Second,
		Timeout: 30 * time.Minute, HourlySchedule: "5 * * * *", HourlyWait: 10 * time.Minute, ArchiveDir: "var/archive", ArchiveDrop: true, ArchiveSchedule: "30 3 2 * *", MinuteKeepMonths: 3}
}

// Validate names the bad field by its flag.
func (c OfflineConfig) Validate() error {
	var errs []error
	if c.Runner == "" {
		errs = append(errs, errors.New("offline-runner: empty"))
	}
	if c.UnitRows < 0 || c.SplitRows < 0 {
		errs = append(errs, fmt.Errorf("offline-unit-rows %d, offline-split-rows %d: must not be negative", c.UnitRows, c.SplitRows))
	}
	if c.RetentionDays < 1 || c.RetentionDays > 366 {
		errs = append(errs, fmt.Errorf("offline-retention-days %d: want 1…366", c.RetentionDays))
	}
	if c.FunnelWindow < time.Second {
		errs = append(errs, fmt.Errorf("offline-funnel-window %s: want at least 1s", c.FunnelWindow))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("offline-timeout %s: want a positive duration", c.Timeout))
	}
	if c.HourlyWait <= 0 {
		errs = append(errs, fmt.Errorf("offline-hourly-wait %s: want a positive duration", c.HourlyWait))
	}
	if c.ArchiveAfterMonths < 0 || c.ArchiveAfterMonths > 1200 {
		errs = append(errs, fmt.Errorf("offline-archive-after-months %d: want 0 (off) to 1200", c.ArchiveAfterMonths))
	}
	if c.MinuteKeepMonths < 0 || c.MinuteKeepMonths > 1200 {
		errs = append(errs, fmt.Errorf("minute-keep-months %d: want 0 (keep all) to 1200", c.MinuteKeepMonths))
	}
	if c.ArchiveAfterMonths > 0 && c.ArchiveDir == "" {
		errs = append(errs, errors.New("offline-archive-dir: empty while the archive job is on"))
	}
	return errors.Join(errs...)
}

func (c OfflineConfig) options(deps Deps) offline.Options {
	o := offline.DefaultOptions()
	o.Warehouse, o.Runner, o.RetentionDays = deps.Warehouse, c.Runner, c.RetentionDays
	o.Beam = deps.Beam
	o.FunnelWindow = int64(c.FunnelWindow / time.Second)
	o.Source = chsource.Options{UnitRows: c.UnitRows, SplitRows: c.SplitRows}
	return o
}

// OfflineJobs declares the offline engine's daily jobs, each a Day job in the scheduler's zone
// without a schedule of its own: they run when events (see Jobs) runs, after their upstream
// jobs. Declare them with Jobs' (they depend on JobEvents). It also declares the hourly jobs,
// Hour jobs in the scheduler's zone: events_hourly on HourlySchedule (the events pipeline has
// written what the broker held when it began), then region_hourly for the same hour.
func OfflineJobs(cfg OfflineConfig, deps Deps) ([]scheduler.Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("offline jobs: %w", err)
	}
	opt := cfg.options(deps)
	var out []scheduler.Job
	for _, spec := range offline.Specs() {
		upstream := spec.After
		if len(upstream) == 0 {
			upstream = []string{JobEvents}
		}
		out = append(out, scheduler.Job{
			Name:        spec.Name,
			Description: spec.Description + " → " + spec.Table,
			Partition:   scheduler.Day,
			DependsOn:   upstream,
			Run:         offlineRun(opt, spec.Name),
			Timeout:     cfg.Timeout,
		})
	}
	out = append(out, scheduler.Job{
		Name:        JobEventsHourly,
		Description: "waits until the events pipeline has written every event the broker held when the hour's check began",
		Schedule:    cfg.HourlySchedule,
		Partition:   scheduler.Hour,
		Run:         eventsLanded(deps, hourlyEventsPoll),
		Timeout:     cfg.HourlyWait,
		Backoff:     2 * time.Minute,
	})
	for _, spec := range offline.HourlySpecs() {
		out = append(out, scheduler.Job{
			Name:        spec.Name,
			Description: spec.Description + " → " + spec.Table,
			Partition:   scheduler.Hour,
			DependsOn:   []string{JobEventsHourly},
			Run:         hourlyRun(opt, spec.Name),
			Timeout:     cfg.Timeout,
		})
	}
	return append(out, archiveJob(cfg, deps), minuteRetentionJob(cfg, deps)), nil
}

// OfflineFuncs are the offline jobs' run functions by "offline_" + job name, for jobs declared
// in a jobs file.
func OfflineFuncs(cfg OfflineConfig, deps Deps) map[string]scheduler.RunFunc {
	out := map[string]scheduler.RunFunc{}
	for _, spec := range offline.Specs() {
		out[FuncOffline+spec.Name] = offlineRun(cfg.options(deps), spec.Name)
	}
	for _, spec := range offline.HourlySpecs() {
		out[FuncOffline+spec.Name] = hourlyRun(cfg.options(deps), spec.Name)
	}
	out[FuncArchive] = archiveRun(cfg, deps)
	out[FuncMinuteRetention] = minuteRetentionRun(cfg, deps)
	return out
}

// offlineRun computes the run's day of one offline job; rows are the table's rows of the day.
// A day whose inputs are not computed yet fails and is retried (offline.ErrInputMissing).
func offlineRun(opt offline.Options, name string) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		res, err := offline.Run(ctx, opt, name, run.Day())
		if errors.Is(err, offline.ErrUnknownJob) {
			return scheduler.RunResult{}, scheduler.Permanent(err)
		}
		if err != nil {
			return scheduler.RunResult{}, err
		}
		run.Log.Info("offline job done", "job", name, "day", res.Day, "read", res.Read, "rows", res.Rows, "took", res.Duration.Round(time.Millisecond))
		return scheduler.RunResult{Rows: res.Rows, Message: fmt.Sprintf("%d rows read, %d rows in the day", res.Read, res.Rows)}, nil
	}
}

// hourlyRun computes the run's hour of one hourly offline job; rows are the table's rows of
// the hour.
func hourlyRun(opt offline.Options, name string) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		res, err := offline.RunHour(ctx, opt, name, run.Logical)
		if errors.Is(err, offline.ErrUnknownJob) {
			return scheduler.RunResult{}, scheduler.Permanent(err)
		}
		if err != nil {
			return scheduler.RunResult{}, err
		}
		hour := res.Hour.Format("2006-01-02T15:04")
		run.Log.Info("offline job done", "job", name, "hour", hour, "read", res.Read, "rows", res.Rows, "took", res.Duration.Round(time.Millisecond))
		return scheduler.RunResult{Rows: res.Rows, Message: fmt.Sprintf("%d rows read, %d rows in the hour", res.Read, res.Rows)}, nil
	}
}
