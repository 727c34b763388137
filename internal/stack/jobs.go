package stack

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/pipelines/scheduler/stdjobs"
	"github.com/citypulse/citypulse/warehouse"
)

// JobsConfig are the settings the scheduler and its standard jobs need.
type JobsConfig struct {
	Scheduler scheduler.Config
	Jobs      stdjobs.Config
	Offline   stdjobs.OfflineConfig
	Bus       bus.Config
	Pipeline  pipelines.Config
	Warehouse warehouse.Config
}

// OpenScheduler builds the scheduler with the standard jobs (events → daily) and the offline
// engine's daily jobs (after events) on ms. Job
// schedules and logical dates are in the pipelines' timezone: the two settings must agree.
func OpenScheduler(ctx context.Context, ms *metastore.Store, c JobsConfig, log *slog.Logger, reg prometheus.Registerer) (*scheduler.Scheduler, error) {
	if c.Scheduler.Timezone != c.Pipeline.Timezone {
		return nil, fmt.Errorf("scheduler-timezone %q and timezone %q differ: job dates must be the pipelines' event dates", c.Scheduler.Timezone, c.Pipeline.Timezone)
	}
	deps := stdjobs.Deps{Bus: c.Bus, EventsGroup: c.Pipeline.Group, Warehouse: c.Warehouse, Beam: c.Pipeline.Beam}
	jobs, err := stdjobs.Jobs(c.Jobs, deps)
	if err != nil {
		return nil, err
	}
	offline, err := stdjobs.OfflineJobs(c.Offline, deps)
	if err != nil {
		return nil, err
	}
	funcs := stdjobs.Funcs(c.Jobs, deps)
	for name, f := range stdjobs.OfflineFuncs(c.Offline, deps) {
		funcs[name] = f
	}
	return scheduler.New(ctx, ms, c.Scheduler, append(jobs, offline...), log, reg, scheduler.WithFuncs(funcs))
}
