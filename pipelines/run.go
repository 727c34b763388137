package pipelines

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // registers the in-process runner
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "time/tzdata" // event dates must not depend on the host's zone files

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/events"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

// Result is what one run did.
type Result struct {
	Ranges      []kafkaio.OffsetRange
	Read        int64
	Duplicates  int64
	Written     int64
	DeadLetters int64
	Days        int64
	Duration    time.Duration
}

// Runner runs the events pipeline over the unread backlog, one bounded run at a time.
type Runner struct {
	cfg Config
	bus bus.Config
	wh  warehouse.Config
	log *slog.Logger
	cl  *kgo.Client
	adm *kadm.Client
	m   *metrics
}

type metrics struct {
	runs     *prometheus.CounterVec
	records  *prometheus.CounterVec
	duration prometheus.Histogram
	lag      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_pipeline_runs_total",
			Help: "Events pipeline runs by outcome (ok, empty, error)."}, []string{"outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_pipeline_records_total",
			Help: "Records handled by the events pipeline, by what became of them."}, []string{"stage"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "citypulse_pipeline_run_duration_seconds",
			Help: "Duration of events pipeline runs that had work.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 10)}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "citypulse_pipeline_backlog_records",
			Help: "Unread records of the events topic at the start of the last run."}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.records, m.duration, m.lag)
	}
	return m
}

// NewRunner connects to Kafka. reg may be nil.
func NewRunner(cfg Config, busCfg bus.Config, whCfg warehouse.Config, log *slog.Logger, reg prometheus.Registerer) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	cl, err := bus.NewClient(busCfg)
	if err != nil {
		return nil, fmt.Errorf("pipeline kafka client: %w", err)
	}
	return &Runner{cfg: cfg, bus: busCfg, wh: whCfg, log: log, cl: cl, adm: kadm.NewClient(cl), m: newMetrics(reg)}, nil
}

// Close releases the Kafka client.
func (r *Runner) Close() { r.cl.Close() }

// RunOnce reads what is unread (at most MaxRunRecords), writes it, and commits the offsets. It
// returns a zero Result with no ranges when there was nothing to read.
func (r *Runner) RunOnce(ctx context.Context) (Result, error) {
	start := time.Now()
	ranges, err := kafkaio.PlanRanges(ctx, r.adm, r.cfg.Group, bus.EventsTopic, r.cfg.MaxRangeRecords)
	if err != nil {
		return Result{}, err
	}
	var backlog int64
	for _, rg := range ranges {
		backlog += rg.Len()
	}
	r.m.lag.Set(float64(backlog))
	ranges = capRanges(ranges, r.cfg.MaxRunRecords)
	if len(ranges) == 0 {
		r.m.runs.WithLabelValues("empty").Inc()
		return Result{}, nil
	}
	p, s := beam.NewPipelineWithRoot()
	events.Build(s, ranges, events.Options{
		Brokers: r.bus.Brokers, DLQTopic: bus.DLQTopic, Warehouse: r.wh,
		Timezone: r.cfg.Timezone, BatchRows: r.cfg.BatchRows,
	})
	pr, err := beam.Run(ctx, r.cfg.Runner, p)
	if err != nil {
		r.m.runs.WithLabelValues("error").Inc()
		return Result{Ranges: ranges}, fmt.Errorf("events pipeline over %d ranges: %w", len(ranges), err)
	}
	// The sinks have the data: only now is the progress recorded.
	if err := kafkaio.Commit(ctx, r.adm, r.cfg.Group, ranges); err != nil {
		r.m.runs.WithLabelValues("error").Inc()
		return Result{Ranges: ranges}, err
	}
	res := Result{Ranges: ranges, Duration: time.Since(start)}
	if pr != nil {
		for _, c := range pr.Metrics().AllMetrics().Counters() {
			v := c.Result()
			switch c.Key.Name {
			case events.CounterRead:
				res.Read += v
			case events.CounterDuplicates:
				res.Duplicates += v
			case events.CounterWritten:
				res.Written += v
			case events.CounterDeadLetters:
				res.DeadLetters += v
			case events.CounterDays:
				res.Days += v
			}
		}
	}
	r.m.runs.WithLabelValues("ok").Inc()
	r.m.duration.Observe(res.Duration.Seconds())
	r.m.records.WithLabelValues("read").Add(float64(res.Read))
	r.m.records.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	r.m.records.WithLabelValues("written").Add(float64(res.Written))
	r.m.records.WithLabelValues("dead_letter").Add(float64(res.DeadLetters))
	return res, nil
}

// capRanges keeps whole ranges, in partition-fair order, until max records.
func capRanges(ranges []kafkaio.OffsetRange, max int64) []kafkaio.OffsetRange {
	byPart := map[int32][]kafkaio.OffsetRange{}
	var parts []int32
	for _, rg := range ranges {
		if _, ok := byPart[rg.Partition]; !ok {
			parts = append(parts, rg.Partition)
		}
		byPart[rg.Partition] = append(byPart[rg.Partition], rg)
	}
	var out []kafkaio.OffsetRange
	var total int64
	for round := 0; ; round++ {
		took := false
		for _, p := range parts {
			if round >= len(byPart[p]) {
				continue
			}
			rg := byPart[p][round]
			if total+rg.Len() > max && len(out) > 0 {
				return out
			}
			out = append(out, rg)
			total += rg.Len()
			took = true
		}
		if !took {
			return out
		}
	}
}

// Run calls RunOnce until ctx ends, pausing Interval after a run that found little to do. A failed
// run is logged and retried after a backoff; nothing is committed for it, so nothing is lost.
func (r *Runner) Run(ctx context.Context) error {
	backoff := r.cfg.Interval
	for {
		res, err := r.RunOnce(ctx)
		wait := r.cfg.Interval
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Error("events pipeline run failed; will retry", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, 2*time.Minute)
		case len(res.Ranges) > 0:
			backoff = r.cfg.Interval
			r.log.Info("events pipeline run", "ranges", len(res.Ranges), "read", res.Read, "written", res.Written,
				"duplicates", res.Duplicates, "dead_letters", res.DeadLetters, "days", res.Days, "took", res.Duration.Round(time.Millisecond))
			if res.Read >= r.cfg.MaxRunRecords {
				wait = 0 // more backlog waits
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
