package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/citypulse/citypulse/pipelines/minute"

	"github.com/citypulse/citypulse/warehouse/review"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/dashboards"
	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/ingest/simulate"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/pipelines/scheduler/stdjobs"
	"github.com/citypulse/citypulse/warehouse"
)

// Up runs the stack until ctx ends. Progress and URLs go to out; logs go to log.
func Up(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	conn, err := prepareWarehouse(ctx, cfg, log, out)
	if err != nil {
		return err
	}
	defer conn.Close()

	if cfg.Bus.Embedded {
		emb, err := bus.StartEmbedded(cfg.Bus, log)
		if err != nil {
			return err
		}
		defer emb.Close()
		cfg.Bus.Brokers = emb.Addrs() // the real port when 0 was asked for
		fmt.Fprintf(out, "kafka: embedded broker on %s, data in %s\n", emb.Addrs()[0], cfg.Bus.DataDir)
	}
	producer, err := bus.NewClient(cfg.Bus, collector.ProducerOpts()...)
	if err != nil {
		return err
	}
	defer producer.Close()
	if err := bus.EnsureTopics(ctx, producer, cfg.Bus.Partitions, cfg.Bus.Topics().Core()...); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	meta, err := metastore.Open(ctx, cfg.Meta)
	if err != nil {
		return err
	}
	defer meta.Close()
	tracking, err := OpenTracking(ctx, meta, cfg.Plan, cfg.PlanFile, log, reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tracking plan: version %d enforced (metadata in %s)\n", tracking.Watcher.Version(), cfg.Meta.DSN)
	col, err := collector.New(cfg.Collector, producer, log, reg, collector.WithPlanChecker(tracking.Checker()), collector.WithTopics(cfg.Bus.Topics()))
	if err != nil {
		return err
	}
	tokenHint := "the api-admin-token you set"
	if cfg.API.AdminToken == "" {
		tokenHint = "$(cat " + filepath.Join(cfg.StateDir, adminTokenFile) + ")"
		if cfg.API.AdminToken, err = stateToken(cfg.StateDir, adminTokenFile); err != nil {
			return err
		}
	}
	api, err := apiserver.New(conn, cfg.API, log, reg)
	if err != nil {
		return err
	}
	dash, err := dashboards.New(cfg.Dashboards, log)
	if err != nil {
		return err
	}
	if err := api.Handle("/", dash); err != nil {
		return err
	}
	if err := tracking.Mount(api.Handle, log); err != nil {
		return err
	}
	if err := api.MountReview(review.Options{Log: log, Registerer: reg}); err != nil {
		return err
	}
	sched, err := OpenScheduler(ctx, meta, JobsConfig{Scheduler: cfg.Scheduler, Jobs: cfg.Jobs, Offline: cfg.Offline, Bus: cfg.Bus, Pipeline: cfg.Pipeline, Warehouse: cfg.Warehouse}, log, reg)
	if err != nil {
		return err
	}
	if err := api.MountJobs(sched); err != nil {
		return err
	}
	runner, err := pipelines.NewRunner(cfg.Pipeline, cfg.Bus, cfg.Warehouse, log, reg)
	if err != nil {
		return err
	}
	defer runner.Close()

	colLn, err := httpserve.Listen(cfg.Collector.Listen)
	if err != nil {
		return err
	}
	apiLn, err := httpserve.Listen(cfg.API.Listen)
	if err != nil {
		colLn.Close()
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserve.Serve(gctx, colLn, col.Handler(), "collector", log) })
	g.Go(func() error { return httpserve.Serve(gctx, apiLn, api.Handler(), "api", log) })
	g.Go(func() error { return runner.Run(gctx) })
	g.Go(func() error {
		return minute.RunStreaming(gctx, cfg.Minute.WithBeam(cfg.Pipeline.Beam), cfg.Bus, cfg.Warehouse, log, reg)
	})
	g.Go(func() error { return tracking.Watcher.Run(gctx) })
	// A history loaded now spans more days than the scheduler's catch-up looks back, and its
	// events are not in yet: the scheduler starts once they have landed, after a backfill of
	// the daily jobs over the history's days was queued (see simulateTraffic), so that no
	// daily job computes a day before its events are in.
	schedStart := make(chan struct{})
	startSched := sync.OnceFunc(func() { close(schedStart) })
	if !cfg.History || historyLoaded(cfg) {
		startSched()
	}
	g.Go(func() error {
		select {
		case <-schedStart:
		case <-gctx.Done():
			return nil
		}
		return sched.Run(gctx)
	})
	g.Go(func() error { return feeds.Run(gctx, cfg.Feeds, cfg.Bus, cfg.Warehouse, meta, log, reg) })

	apiURL := "http://" + apiLn.Addr().String()
	collectorURL := "http://" + colLn.Addr().String()
	fmt.Fprintf(out, "\nCityPulse is up:\n")
	fmt.Fprintf(out, "  big screen   %s/dashboard\n", apiURL)
	fmt.Fprintf(out, "  API          %s/api/v1/overview?region=%s\n", apiURL, cfg.API.CityCode)
	fmt.Fprintf(out, "  real time    %s/api/v1/realtime?region=%s  (per minute, streaming)\n", apiURL, cfg.API.CityCode)
	fmt.Fprintf(out, "  metrics      %s/metrics\n", apiURL)
	fmt.Fprintf(out, "  plan         %s%s   violations %s/api/v1/tracking/violations\n", apiURL, plan.APIPath, apiURL)
	fmt.Fprintf(out, "  collector    %s/v1/batch  (write key %q)\n", collectorURL, cfg.Simulate.WriteKey)
	fmt.Fprintf(out, "  feeds        http://%s/v1/feeds/{dataset}  (signed pushes and file uploads)\n", cfg.Feeds.Listen)
	fmt.Fprintf(out, "  review       %s/api/v1/community/changes  (departments' change requests)\n", apiURL)
	fmt.Fprintf(out, "  jobs         %s/jobs\n", apiURL)
	fmt.Fprintf(out, "  writes       plan apply, review decisions, job trigger/backfill: Authorization: Bearer %s\n", tokenHint)
	fmt.Fprintf(out, "  ClickHouse   clickhouse-client --host %s --port %s --database %s\n", hostPort(cfg.Warehouse.Addr)[0], hostPort(cfg.Warehouse.Addr)[1], cfg.Warehouse.Database)
	fmt.Fprintf(out, "Press Ctrl-C to stop.\n\n")

	if cfg.History || cfg.Trickle {
		sim := cfg.Simulate
		sim.CollectorURL = collectorURL
		landed := func(ctx context.Context, start, end time.Time) {
			defer startSched()
			backfillHistory(ctx, sched, start, end, log, out)
		}
		g.Go(func() error {
			defer startSched() // whatever happened to the history, the scheduler runs
			return simulateTraffic(gctx, cfg, sim, conn, landed, log, out)
		})
	}
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(out, "CityPulse stopped.")
	return nil
}

// prepareWarehouse waits for ClickHouse, applies the schema and loads the dimensions.
func prepareWarehouse(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (driver.Conn, error) {
	var applied []int
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		applied, err = warehouse.Migrate(ctx, cfg.Warehouse, log)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		log.Warn("waiting for ClickHouse", "addr", cfg.Warehouse.Addr, "err", err)
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "schema: %d migration(s) applied (database %s on %s)\n", len(applied), cfg.Warehouse.Database, cfg.Warehouse.Addr)
	conn, err := warehouse.Open(ctx, cfg.Warehouse)
	if err != nil {
		return nil, err
	}
	regions, services, err := warehouse.LoadDimensions(ctx, conn, cfg.API.CityCode)
	if err != nil {
		conn.Close()
		return nil, err
	}
	fmt.Fprintf(out, "dimensions: %d regions of city %s, %d services\n", regions, cfg.API.CityCode, services)
	return conn, nil
}

// historyMarker is the file that says the history was loaded with these settings today.
func historyMarker(cfg Config) string {
	sim := cfg.Simulate
	return filepath.Join(cfg.StateDir, "history", fmt.Sprintf("%s-city%s-r%d-d%d-seed%d.done",
		time.Now().Format(time.DateOnly), sim.CityCode, sim.Residents, sim.Days, sim.Seed))
}

// historyLoaded reports whether the history was loaded with these settings today.
func historyLoaded(cfg Config) bool {
	_, err := os.Stat(historyMarker(cfg))
	return err == nil
}

// simulateTraffic loads the history once, waits for the pipeline to write it, calls landed with
// the history's window, then trickles. The marker that the history was loaded is written once
// landed returned, so that a run stopped before then loads it again (the pipeline drops the
// duplicate events by message id) and queues the backfill again.
func simulateTraffic(ctx context.Context, cfg Config, simCfg simulate.Config, conn driver.Conn,
	landed func(ctx context.Context, start, end time.Time), log *slog.Logger, out io.Writer) error {
	sim, err := simulate.New(simCfg, log)
	if err != nil {
		return err
	}
	if cfg.History {
		marker := historyMarker(cfg)
		if historyLoaded(cfg) {
			fmt.Fprintf(out, "history: already loaded today with these settings (%s)\n", marker)
		} else {
			fmt.Fprintf(out, "history: simulating %d residents over %d days through the collector…\n", simCfg.Residents, simCfg.Days)
			started := time.Now().Add(-time.Second)
			st, err := sim.History(ctx, simulate.ProgressBar(out, 0))
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("load simulated history: %w", err)
			}
			fmt.Fprintf(out, "history: %d events sent, %d accepted, %d rejected\n", st.Sent, st.Accepted, st.Rejected)
			n := waitForRows(ctx, conn, started, int64(st.Accepted))
			if ctx.Err() != nil {
				return nil
			}
			start, end := sim.Window()
			landed(ctx, start, end)
			if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
				return fmt.Errorf("history marker: %w", err)
			}
			if err := os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644); err != nil {
				return fmt.Errorf("history marker: %w", err)
			}
			fmt.Fprintf(out, "pipeline: %d of those events are in dwd_events\n", n)
		}
	}
	if !cfg.Trickle {
		<-ctx.Done()
		return nil
	}
	fmt.Fprintf(out, "live: trickling %.1f simulated events/s; the big screen refreshes itself\n", simCfg.TrickleRate)
	if err := sim.Trickle(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("live simulated traffic: %w", err)
	}
	return nil
}

// waitForRows returns how many rows received since `since` the pipeline has written, waiting
// until there are want of them, 5 minutes passed or ctx ends.
func waitForRows(ctx context.Context, conn driver.Conn, since time.Time, want int64) uint64 {
	deadline := time.Now().Add(5 * time.Minute)
	var n uint64
	for time.Now().Before(deadline) {
		if err := conn.QueryRow(ctx, "SELECT count() FROM dwd_events FINAL WHERE received_at >= ?", since).Scan(&n); err == nil && int64(n) >= want {
			break
		}
		select {
		case <-ctx.Done():
			return n
		case <-time.After(time.Second):
		}
	}
	return n
}

// backfillHistory queues the daily jobs (events and every job downstream of it) for each whole
// day of the history's window [start, end), in the scheduler's zone. A failure is reported,
// not fatal: the stack runs, and `citypulse jobs backfill events FROM TO` does the same.
func backfillHistory(ctx context.Context, sched *scheduler.Scheduler, start, end time.Time, log *slog.Logger, out io.Writer) {
	loc := sched.Location()
	from, to := start.In(loc).Format(time.DateOnly), end.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	res, err := sched.Backfill(ctx, stdjobs.JobEvents, from, to, scheduler.EnqueueOptions{By: "citypulse up (simulated history)"})
	if err != nil {
		log.Warn("history: could not queue the daily jobs over the history's days; run `citypulse jobs backfill events FROM TO`",
			"from", from, "to", to, "err", err)
		fmt.Fprintf(out, "history: daily jobs NOT queued for %s … %s: %v\n", from, to, err)
		return
	}
	fmt.Fprintf(out, "history: daily jobs queued for %s … %s (%d runs; progress at /jobs)\n", from, to, res.Created)
}

func hostPort(addr string) [2]string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return [2]string{addr[:i], addr[i+1:]}
		}
	}
	return [2]string{addr, "9000"}
}
