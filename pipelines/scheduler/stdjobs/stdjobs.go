package stdjobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/warehouse"
)

// Job names, for dependencies declared elsewhere.
const (
	JobEvents = "events"
	JobDaily  = "daily"
)

// Function names of Funcs, for jobs declared in a jobs file (scheduler.WithFuncs).
const (
	FuncEventsLanded = "events_landed"
	FuncRefreshDaily = "refresh_daily"
)

// Config tunes the standard jobs.
type Config struct {
	// EventsSchedule is when the events job checks, each day, that the previous day's events
	// are written; daily runs right after it.
	EventsSchedule string `flag:"job-events-schedule" help:"cron schedule of the daily events-landed check, after which the daily aggregates are recomputed"`
	// EventsTimeout bounds how long the events job waits for the pipeline to catch up.
	EventsTimeout time.Duration `flag:"job-events-timeout" help:"how long the events job waits for the events pipeline to catch up before it fails (and is retried)"`
	// Poll is how often the events job looks at the pipeline's committed offsets.
	Poll time.Duration `flag:"job-events-poll" help:"how often the events job looks at the events pipeline's progress"`
}

// DefaultConfig checks at 00:15 and waits up to 15 minutes, looking every 5 seconds.
func DefaultConfig() Config {
	return Config{EventsSchedule: "15 0 * * *", EventsTimeout: 15 * time.Minute, Poll: 5 * time.Second}
}

// Validate names the bad field by its flag.
func (c Config) Validate() error {
	var errs []error
	if c.EventsTimeout <= 0 {
		errs = append(errs, fmt.Errorf("job-events-timeout %s: want a positive duration", c.EventsTimeout))
	}
	if c.Poll <= 0 {
		errs = append(errs, fmt.Errorf("job-events-poll %s: want a positive duration", c.Poll))
	}
	return errors.Join(errs...)
}

// Deps are what the jobs reach: the broker and the events pipeline's consumer group
// (pipelines.Config.Group), and the warehouse.
type Deps struct {
	Bus         bus.Config
	EventsGroup string
	Warehouse   warehouse.Config
	// Beam selects where the offline jobs run (in-process Prism by default; see beamrun).
	Beam beamrun.Options
}

// Jobs declares the standard jobs: events (on EventsSchedule) → daily. Both compute a day in
// the scheduler's zone, which must be the pipelines' timezone (event dates are local dates in
// it).
func Jobs(cfg Config, deps Deps) ([]scheduler.Job, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("standard jobs: %w", err)
	}
	if deps.EventsGroup == "" {
		return nil, errors.New("standard jobs: the events pipeline's consumer group is empty")
	}
	return []scheduler.Job{{
		Name:        JobEvents,
		Description: "waits until the events pipeline has written every event the broker held when the day's check began",
		Schedule:    cfg.EventsSchedule,
		Partition:   scheduler.Day,
		Run:         eventsLanded(deps, cfg.Poll),
		Timeout:     cfg.EventsTimeout,
		Backoff:     5 * time.Minute,
	}, {
		Name:        JobDaily,
		Description: "recomputes the day's dws_region_service_daily from dwd_events",
		Partition:   scheduler.Day,
		DependsOn:   []string{JobEvents},
		Run:         refreshDaily(deps),
		Timeout:     30 * time.Minute,
	}}, nil
}

// Funcs are the run functions of the standard jobs by name, for jobs declared in a jobs file.
func Funcs(cfg Config, deps Deps) map[string]scheduler.RunFunc {
	return map[string]scheduler.RunFunc{
		FuncEventsLanded: eventsLanded(deps, cfg.Poll),
		FuncRefreshDaily: refreshDaily(deps),
	}
}

// countDailySQL counts the aggregate rows of one day after a refresh.
const countDailySQL = `SELECT count() FROM dws_region_service_daily FINAL WHERE event_date = toDate(?)`

// refreshDaily recomputes the run's day; rows are the day's aggregate rows after it.
func refreshDaily(deps Deps) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		conn, err := warehouse.Open(ctx, deps.Warehouse)
		if err != nil {
			return scheduler.RunResult{}, err
		}
		defer conn.Close()
		if err := warehouse.RefreshDaily(ctx, conn, []time.Time{run.Logical}); err != nil {
			return scheduler.RunResult{}, err
		}
		var rows uint64
		if err := conn.QueryRow(ctx, countDailySQL, run.Day()).Scan(&rows); err != nil {
			return scheduler.RunResult{}, fmt.Errorf("count dws_region_service_daily rows of %s: %w", run.Day(), err)
		}
		run.Log.Info("daily aggregate refreshed", "day", run.Day(), "rows", rows)
		return scheduler.RunResult{Rows: int64(rows), Message: "dws_region_service_daily refreshed for " + run.Day()}, nil
	}
}
