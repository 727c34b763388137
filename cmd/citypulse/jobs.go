package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/stack"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/pipelines/scheduler/stdjobs"
	"github.com/citypulse/citypulse/warehouse"
)

type jobsConfig struct {
	Meta metastore.Config
	Jobs stack.JobsConfig
}

func newJobsConfig() any {
	return &jobsConfig{Meta: metastore.DefaultConfig(), Jobs: stack.JobsConfig{
		Scheduler: scheduler.DefaultConfig(), Jobs: stdjobs.DefaultConfig(), Offline: stdjobs.DefaultOfflineConfig(), Bus: bus.DefaultConfig(),
		Pipeline: pipelines.DefaultConfig(), Warehouse: warehouse.DefaultConfig(),
	}}
}

// withScheduler opens the metadata store and the scheduler with the standard jobs.
func withScheduler(ctx context.Context, c *jobsConfig, log *slog.Logger, f func(*scheduler.Scheduler) error) error {
	meta, err := metastore.Open(ctx, c.Meta)
	if err != nil {
		return err
	}
	defer meta.Close()
	s, err := stack.OpenScheduler(ctx, meta, c.Jobs, log, newRegistry())
	if err != nil {
		return err
	}
	return f(s)
}

var jobsCommand = command{
	summary: "scheduled jobs: jobs list | runs [JOB] | show RUN | trigger JOB | backfill JOB FROM TO",
	cfg:     newJobsConfig,
	run: func(ctx context.Context, cfg any, args []string, log *slog.Logger) error {
		return withScheduler(ctx, cfg.(*jobsConfig), log, func(s *scheduler.Scheduler) error {
			if err := scheduler.Command(ctx, s, os.Stdout, args); err != nil {
				return fmt.Errorf("%w\n%s", err, scheduler.CommandUsage)
			}
			return nil
		})
	},
}

var schedulerCommand = command{
	summary: "run the job scheduler alone (one of several replicas is fine: leases in the metadata store)",
	cfg:     newJobsConfig,
	run: func(ctx context.Context, cfg any, args []string, log *slog.Logger) error {
		if len(args) > 0 {
			return fmt.Errorf("scheduler: unexpected arguments %q", args)
		}
		return withScheduler(ctx, cfg.(*jobsConfig), log, func(s *scheduler.Scheduler) error { return s.Run(ctx) })
	},
}
