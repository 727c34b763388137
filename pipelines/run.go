package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // registers the in-process runner
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "time/tzdata" // event dates must not depend on the host's zone files

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

// Result is what one turn did: the events pipeline's run (the top-level fields) and the
// bad-events pipeline's run in the same turn (BadEvents).
type Result struct {
	// Ranges are the events topic's ranges the turn read (committed unless RunOnce's error names
	// the events pipeline); none when it had nothing unread.
	Ranges      []kafkaio.OffsetRange
	Read        int64
	Duplicates  int64
	Written     int64
	DeadLetters int64
	Days        int64
	// BadEvents is what the bad-events pipeline stored from the dead-letter topic.
	BadEvents BadEventsResult
	// Clean is what each dataset's cleaning pipeline did, by dataset (every dataset of
	// cleaning.Specs has an entry).
	Clean    map[string]*CleanResult
	Duration time.Duration
}

// BadEventsResult is what one run of the bad-events pipeline did.
type BadEventsResult struct {
	// Ranges are the dead-letter topic's ranges read (committed unless RunOnce's error names the
	// bad-events pipeline).
	Ranges []kafkaio.OffsetRange
	// Read records, of which Undecodable were not readable dead letters (stored all the same).
	Read        int64
	Undecodable int64
	// Written rows to ods_bad_events.
	Written int64
}

// CleanResult is what one run of a dataset's cleaning pipeline did.
type CleanResult struct {
	// Ranges are the feed topic's ranges read (committed unless RunOnce's error names the
	// dataset's cleaning pipeline).
	Ranges []kafkaio.OffsetRange
	// Read records: Valid ones and Quarantined ones (of which Undecodable were no feed records).
	Read        int64
	Valid       int64
	Quarantined int64
	Undecodable int64
	// Changes and References are the valid records staged in ods_staged_rows (a department's
	// rows of a reviewed dataset; a reference source's rows) instead of loaded; the other valid
	// records are loaded.
	Changes    int64
	References int64
	// Written rows to the dataset's dwd_ table; StagedRows to ods_staged_rows; QuarantineRows to
	// ods_feed_quarantine (one per field error).
	Written        int64
	StagedRows     int64
	QuarantineRows int64
}

// clean returns the dataset's entry of Clean, adding it when missing.
func (r *Result) clean(dataset string) *CleanResult {
	if r.Clean == nil {
		r.Clean = map[string]*CleanResult{}
	}
	c, ok := r.Clean[dataset]
	if !ok {
		c = &CleanResult{}
		r.Clean[dataset] = c
	}
	return c
}

// Idle reports whether the turn found nothing unread in any topic.
func (r Result) Idle() bool {
	for _, c := range r.Clean {
		if len(c.Ranges) > 0 {
			return false
		}
	}
	return len(r.Ranges) == 0 && len(r.BadEvents.Ranges) == 0
}

// Runner runs the events, bad-events and cleaning pipelines over their unread backlogs, one
// bounded run of each per turn.
type Runner struct {
	cfg  Config
	bus  bus.Config
	wh   warehouse.Config
	log  *slog.Logger
	cl   *kgo.Client
	adm  *kadm.Client
	m    *runnerMetrics
	jobs []job
}

type runnerMetrics struct {
	runs     *prometheus.CounterVec
	records  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	lag      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *runnerMetrics {
	m := &runnerMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_pipeline_runs_total",
			Help: "Pipeline runs by pipeline (events, bad_events, clean_<dataset>) and outcome (ok, empty, error)."}, []string{"pipeline", "outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_pipeline_records_total",
			Help: "Records handled by a pipeline, by what became of them."}, []string{"pipeline", "stage"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "citypulse_pipeline_run_duration_seconds",
			Help: "Duration of pipeline runs that had work.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 10)}, []string{"pipeline"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "citypulse_pipeline_backlog_records",
			Help: "Unread records of a pipeline's topic at the start of its last run."}, []string{"pipeline"}),
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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, err := bus.NewClient(busCfg)
	if err != nil {
		return nil, fmt.Errorf("pipeline kafka client: %w", err)
	}
	r := &Runner{cfg: cfg, bus: busCfg, wh: whCfg, log: log, cl: cl, adm: kadm.NewClient(cl), m: newMetrics(reg)}
	r.jobs = append(r.pipelineJobs(), r.cleanJobs()...)
	return r, nil
}

// Close releases the Kafka client.
func (r *Runner) Close() { r.cl.Close() }

// RunOnce is one turn: for each pipeline (events, bad events, then the cleaning pipelines) it reads what is unread in its
// topic (at most MaxRunRecords), writes it, and commits the offsets. A pipeline that fails commits
// nothing and does not stop the other; the error names it. Result.Idle reports a turn that found
// nothing to read.
func (r *Runner) RunOnce(ctx context.Context) (Result, error) {
	start := time.Now()
	var res Result
	var errs []error
	for _, j := range r.jobs {
		ranges, err := r.runJob(ctx, j, &res)
		*j.ranges(&res) = ranges
		if err != nil {
			errs = append(errs, err)
		}
	}
	res.Duration = time.Since(start)
	return res, errors.Join(errs...)
}

// runJob runs one pipeline over its unread ranges, adds its counters to res, and returns the
// ranges it read (committed unless err is set).
func (r *Runner) runJob(ctx context.Context, j job, res *Result) ([]kafkaio.OffsetRange, error) {
	start := time.Now()
	ranges, err := kafkaio.PlanRanges(ctx, r.adm, j.group, j.topic, r.cfg.MaxRangeRecords)
	if err != nil && j.absentOK && errors.Is(err, kerr.UnknownTopicOrPartition) {
		r.m.runs.WithLabelValues(j.name, "empty").Inc()
		return nil, nil
	}
	if err != nil {
		r.m.runs.WithLabelValues(j.name, "error").Inc()
		return nil, fmt.Errorf("%s pipeline: %w", j.name, err)
	}
	var backlog int64
	for _, rg := range ranges {
		backlog += rg.Len()
	}
	r.m.lag.WithLabelValues(j.name).Set(float64(backlog))
	ranges = capRanges(ranges, r.cfg.MaxRunRecords)
	if len(ranges) == 0 {
		r.m.runs.WithLabelValues(j.name, "empty").Inc()
		return nil, nil
	}
	p, s := beam.NewPipelineWithRoot()
	if err := j.build(s, ranges); err != nil {
		r.m.runs.WithLabelValues(j.name, "error").Inc()
		return ranges, fmt.Errorf("%s pipeline: %w", j.name, err)
	}
	pr, err := beamrun.Run(ctx, r.cfg.BeamOptions("citypulse-"+j.name), p)
	if err != nil {
		r.m.runs.WithLabelValues(j.name, "error").Inc()
		return ranges, fmt.Errorf("%s pipeline over %d ranges: %w", j.name, len(ranges), err)
	}
	// The sinks have the data: only now is the progress recorded.
	if err := kafkaio.Commit(ctx, r.adm, j.group, ranges); err != nil {
		r.m.runs.WithLabelValues(j.name, "error").Inc()
		return ranges, fmt.Errorf("%s pipeline: %w", j.name, err)
	}
	if pr != nil {
		for _, c := range pr.Metrics().AllMetrics().Counters() {
			field, ok := j.counters[metrics.StepKey{Namespace: c.Key.Namespace, Name: c.Key.Name}]
			if !ok {
				continue
			}
			v := c.Result()
			*field(res) += v
			if stage, ok := stages[c.Key.Name]; ok {
				r.m.records.WithLabelValues(j.name, stage).Add(float64(v))
			}
		}
	}
	r.m.runs.WithLabelValues(j.name, "ok").Inc()
	r.m.duration.WithLabelValues(j.name).Observe(time.Since(start).Seconds())
	return ranges, nil
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
			r.log.Error("pipeline run failed; will retry", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, 2*time.Minute)
		case !res.Idle():
			backoff = r.cfg.Interval
			if len(res.Ranges) > 0 {
				r.log.Info("events pipeline run", "ranges", len(res.Ranges), "read", res.Read, "written", res.Written,
					"duplicates", res.Duplicates, "dead_letters", res.DeadLetters, "days", res.Days, "took", res.Duration.Round(time.Millisecond))
			}
			if b := res.BadEvents; len(b.Ranges) > 0 {
				r.log.Info("bad-events pipeline run", "ranges", len(b.Ranges), "read", b.Read, "written", b.Written, "undecodable", b.Undecodable)
			}
			for ds, c := range res.Clean {
				if len(c.Ranges) > 0 {
					r.log.Info("cleaning pipeline run", "dataset", ds, "ranges", len(c.Ranges), "read", c.Read, "valid", c.Valid,
						"quarantined", c.Quarantined, "undecodable", c.Undecodable, "changes", c.Changes, "references", c.References,
						"written", c.Written, "staged_rows", c.StagedRows, "quarantine_rows", c.QuarantineRows)
				}
				if c.Read >= r.cfg.MaxRunRecords {
					wait = 0
				}
			}
			if res.Read >= r.cfg.MaxRunRecords || res.BadEvents.Read >= r.cfg.MaxRunRecords {
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
