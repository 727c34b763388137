package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/dashboards"
	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/ingest/simulate"
	"github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/stack"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/minute"
	"github.com/citypulse/citypulse/warehouse"
)

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

var upCommand = command{
	summary: "run the whole local stack: broker, collector, pipeline, API, big screen, simulated traffic",
	cfg:     func() any { c := stack.DefaultConfig(); return &c },
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		return stack.Up(ctx, *cfg.(*stack.Config), log, os.Stderr)
	},
}

type collectorConfig struct {
	Collector collector.Config
	Bus       bus.Config
	Meta      metastore.Config
	Plan      plan.Config
}

var collectorCommand = command{
	summary: "run the event collector (Segment-compatible HTTP API → Kafka)",
	cfg: func() any {
		return &collectorConfig{Collector: collector.DefaultConfig(), Bus: bus.DefaultConfig(), Meta: metastore.DefaultConfig(), Plan: plan.DefaultConfig()}
	},
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*collectorConfig)
		reg := newRegistry()
		meta, err := metastore.Open(ctx, c.Meta)
		if err != nil {
			return err
		}
		defer meta.Close()
		tracking, err := stack.OpenTracking(ctx, meta, c.Plan, "", log, reg)
		if err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return tracking.Watcher.Run(gctx) })
		g.Go(func() error {
			return collector.Run(gctx, c.Collector, c.Bus, log, reg, collector.WithPlanChecker(tracking.Checker()))
		})
		return g.Wait()
	},
}

type pipelineConfig struct {
	Pipeline  pipelines.Config
	Minute    minute.Config
	Bus       bus.Config
	Warehouse warehouse.Config
	Once      bool `flag:"once" help:"run once over the unread events and exit"`
}

var pipelineCommand = command{
	summary: "run the events, bad-events and feed-cleaning pipelines (Kafka → Beam → ClickHouse), continuously (with the streaming per-minute metrics) or -once",
	cfg: func() any {
		return &pipelineConfig{Pipeline: pipelines.DefaultConfig(), Minute: minute.DefaultConfig(), Bus: bus.DefaultConfig(), Warehouse: warehouse.DefaultConfig()}
	},
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*pipelineConfig)
		reg := newRegistry()
		r, err := pipelines.NewRunner(c.Pipeline, c.Bus, c.Warehouse, log, reg)
		if err != nil {
			return err
		}
		defer r.Close()
		if !c.Once {
			// The micro-batch runner and the streaming per-minute metrics job run side by side.
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return r.Run(gctx) })
			g.Go(func() error {
				return minute.RunStreaming(gctx, c.Minute.WithBeam(c.Pipeline.Beam), c.Bus, c.Warehouse, log, reg)
			})
			return g.Wait()
		}
		for {
			res, err := r.RunOnce(ctx)
			if err != nil {
				return err
			}
			if res.Idle() {
				return nil
			}
			fmt.Fprintf(os.Stderr, "events: read %d, written %d, duplicates %d, dead letters %d, days refreshed %d; bad events: read %d, written %d (%d undecodable); %s\n",
				res.Read, res.Written, res.Duplicates, res.DeadLetters, res.Days, res.BadEvents.Read, res.BadEvents.Written, res.BadEvents.Undecodable, res.Duration)
		}
	},
}

type apiConfig struct {
	API        apiserver.Config
	Dashboards dashboards.Config
	Warehouse  warehouse.Config
	Meta       metastore.Config
	Plan       plan.Config
}

var apiCommand = command{
	summary: "serve the HTTP API and the big-screen dashboards",
	cfg: func() any {
		return &apiConfig{API: apiserver.DefaultConfig(), Dashboards: dashboards.DefaultConfig(), Warehouse: warehouse.DefaultConfig(),
			Meta: metastore.DefaultConfig(), Plan: plan.DefaultConfig()}
	},
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*apiConfig)
		dash, err := dashboards.New(c.Dashboards, log)
		if err != nil {
			return err
		}
		reg := newRegistry()
		meta, err := metastore.Open(ctx, c.Meta)
		if err != nil {
			return err
		}
		defer meta.Close()
		tracking, err := stack.OpenTracking(ctx, meta, c.Plan, "", log, reg)
		if err != nil {
			return err
		}
		planAPI := tracking.Handler(log)
		return apiserver.Run(ctx, c.API, c.Warehouse, log, reg, map[string]http.Handler{
			"/": dash, plan.APIPath: planAPI, plan.APIPath + "/": planAPI})
	},
}

type simulateConfig struct {
	Simulate simulate.Config
	History  bool `flag:"history" help:"send the simulated history"`
	Trickle  bool `flag:"trickle" help:"then keep sending live traffic until interrupted"`
}

type simulateCommunityConfig struct {
	Community community.Config
}

var simulateCommunityCommand = command{
	summary: "write the community datasets (nine, with planted defects and their ground truth) as department and community files; optionally push them to the feeds gateway",
	cfg:     func() any { return &simulateCommunityConfig{Community: community.DefaultConfig()} },
	run: func(ctx context.Context, cfg any, args []string, _ *slog.Logger) error {
		if len(args) > 0 {
			return fmt.Errorf("simulate community: unexpected arguments %q (everything is a flag; see -h)", args)
		}
		sum, err := community.Run(ctx, cfg.(*simulateCommunityConfig).Community, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Printf("community data in %s; %d files pushed\n", sum.Dir, len(sum.Pushed))
		return nil
	},
}

var simulateCommand = command{
	summary: "send simulated residents' app events through the collector",
	cfg:     func() any { return &simulateConfig{Simulate: simulate.DefaultConfig(), History: true} },
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*simulateConfig)
		sim, err := simulate.New(c.Simulate, log)
		if err != nil {
			return err
		}
		if c.History {
			st, err := sim.History(ctx, simulate.ProgressBar(os.Stderr, 0))
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "sent %d events: %d accepted, %d rejected\n", st.Sent, st.Accepted, st.Rejected)
		}
		if c.Trickle {
			return sim.Trickle(ctx)
		}
		return nil
	},
}

type migrateConfig struct {
	Warehouse warehouse.Config
	City      string `flag:"city" help:"12-digit code of the city whose regions are loaded"`
}

var migrateCommand = command{
	summary: "apply the ClickHouse schema and load the region and service dimensions",
	cfg: func() any {
		return &migrateConfig{Warehouse: warehouse.DefaultConfig(), City: apiserver.DefaultConfig().CityCode}
	},
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*migrateConfig)
		applied, err := warehouse.Migrate(ctx, c.Warehouse, log)
		if err != nil {
			return err
		}
		conn, err := warehouse.Open(ctx, c.Warehouse)
		if err != nil {
			return err
		}
		defer conn.Close()
		regions, services, err := warehouse.LoadDimensions(ctx, conn, c.City)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "applied %d migration(s); loaded %d regions and %d services\n", len(applied), regions, services)
		return nil
	},
}

type feedsConfig struct {
	Feeds     feeds.Config
	Bus       bus.Config
	Warehouse warehouse.Config
	Meta      metastore.Config
}

var feedsCommand = command{
	summary: "run the feeds gateway: signed pushes and file uploads of departmental and community data",
	cfg: func() any {
		return &feedsConfig{Feeds: feeds.DefaultConfig(), Bus: bus.DefaultConfig(), Warehouse: warehouse.DefaultConfig(), Meta: metastore.DefaultConfig()}
	},
	run: func(ctx context.Context, cfg any, _ []string, log *slog.Logger) error {
		c := cfg.(*feedsConfig)
		meta, err := metastore.Open(ctx, c.Meta)
		if err != nil {
			return err
		}
		defer meta.Close()
		return feeds.Run(ctx, c.Feeds, c.Bus, c.Warehouse, meta, log, newRegistry())
	},
}
