package minute

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // registers the in-process runner
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

// Config configures the streaming minute-metrics pipeline (RunStreaming).
type Config struct {
	// Runner is the Beam runner: "prism" runs in-process.
	Runner string `flag:"minute-runner" help:"Beam runner of the streaming minute-metrics pipeline (prism = in-process)"`
	// Group is the Kafka consumer group whose committed offsets mark the events already counted.
	Group string `flag:"minute-group" help:"Kafka consumer group holding the minute-metrics pipeline's progress"`
	// Checkpoint is how long the source reads one partition before it checkpoints; it bounds
	// the latency the pipeline adds (a bundle ends after every partition had its turn).
	Checkpoint time.Duration `flag:"minute-checkpoint" help:"how long the streaming Kafka source reads a partition before it checkpoints (bounds latency)"`
	// OutOfOrder is the bounded out-of-orderness of the source's event-time watermark.
	OutOfOrder time.Duration `flag:"minute-out-of-order" help:"bounded out-of-orderness of record timestamps for the streaming source's watermark"`
	// RestartBackoff is the first pause before a failed streaming job is started again; it
	// doubles per failure up to a minute and resets after a job that ran a minute.
	RestartBackoff time.Duration `flag:"minute-restart-backoff" help:"first pause before the streaming minute pipeline restarts after a failure"`
	// LagInterval is how often the consumer lag metric is refreshed.
	LagInterval time.Duration `flag:"minute-lag-interval" help:"how often the minute pipeline's Kafka lag metric is refreshed"`

	// beam holds the process's shared Beam options (pipelines.Config.Beam), set with WithBeam. It
	// is unexported so the config binder does not bind the beam-* flags a second time.
	beam beamrun.Options
}

// WithBeam returns c running on the shared Beam options o (pipelines.Config.Beam): Runner, when
// it is not the default prism, overrides o.Runner for this pipeline.
func (c Config) WithBeam(o beamrun.Options) Config {
	c.beam = o
	return c
}

// BeamOptions are the options the streaming job runs with.
func (c Config) BeamOptions() beamrun.Options {
	return c.beam.Override(c.Runner).Named("citypulse-minute")
}

// DefaultConfig returns the settings of the local stack.
func DefaultConfig() Config {
	return Config{
		Runner:         "prism",
		Group:          "citypulse-pipeline-minute",
		Checkpoint:     100 * time.Millisecond,
		OutOfOrder:     5 * time.Second,
		RestartBackoff: time.Second,
		LagInterval:    5 * time.Second,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Runner == "":
		return errors.New("minute-runner: empty")
	case c.Group == "":
		return errors.New("minute-group: empty")
	case c.Checkpoint <= 0:
		return fmt.Errorf("minute-checkpoint: %s: want > 0", c.Checkpoint)
	case c.OutOfOrder < 0:
		return fmt.Errorf("minute-out-of-order: %s: want ≥ 0", c.OutOfOrder)
	case c.RestartBackoff <= 0:
		return fmt.Errorf("minute-restart-backoff: %s: want > 0", c.RestartBackoff)
	case c.LagInterval <= 0:
		return fmt.Errorf("minute-lag-interval: %s: want > 0", c.LagInterval)
	}
	if err := c.BeamOptions().Validate(); err != nil {
		return fmt.Errorf("minute pipeline: %w", err)
	}
	return nil
}

type runMetrics struct {
	starts *prometheus.CounterVec
	lag    prometheus.Gauge
}

func newRunMetrics(reg prometheus.Registerer) *runMetrics {
	m := &runMetrics{
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_minute_job_starts_total",
			Help: "Starts of the streaming minute pipeline, by reason (first, restart after a failure)."}, []string{"reason"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "citypulse_minute_lag_records",
			Help: "Records of citypulse.events.v1 not yet committed by the minute pipeline's group."}),
	}
	if reg != nil {
		reg.MustRegister(m.starts, m.lag)
	}
	return m
}

// writerDrainTimeout bounds how long a stopping job waits for its writer to write what it holds.
const writerDrainTimeout = time.Minute

// RunStreaming runs the minute pipeline as one unbounded Beam job until ctx ends, and starts it
// again (from the committed offsets, after a backoff) when it fails. beam.Init must have been
// called. It returns nil when ctx ends, or an error for a bad configuration.
func RunStreaming(ctx context.Context, cfg Config, busCfg bus.Config, whCfg warehouse.Config, log *slog.Logger, reg prometheus.Registerer) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("minute pipeline config: %w", err)
	}
	if !beam.Initialized() {
		return errors.New("minute pipeline: beam.Init() was not called")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, err := bus.NewClient(busCfg)
	if err != nil {
		return fmt.Errorf("minute pipeline: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	m := newRunMetrics(reg)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		watchLag(gctx, adm, cfg, busCfg.Topics().Events(), m.lag)
		return nil
	})
	g.Go(func() error {
		superviseStream(gctx, cfg, busCfg, whCfg, adm, log, m)
		return nil
	})
	return g.Wait()
}

// superviseStream starts the streaming job and restarts it after failures until ctx ends.
func superviseStream(ctx context.Context, cfg Config, busCfg bus.Config, whCfg warehouse.Config, adm *kadm.Client, log *slog.Logger, m *runMetrics) {
	backoff := cfg.RestartBackoff
	reason := "first"
	for ctx.Err() == nil {
		started := time.Now()
		m.starts.WithLabelValues(reason).Inc()
		err := runStreamOnce(ctx, cfg, busCfg, whCfg, adm, log)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = cfg.RestartBackoff
		}
		log.Error("minute pipeline stopped; restarting from the committed offsets", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
		reason = "restart"
	}
}

// runStreamOnce builds the streaming job from the group's committed offsets and runs it until it
// fails or ctx ends.
func runStreamOnce(ctx context.Context, cfg Config, busCfg bus.Config, whCfg warehouse.Config, adm *kadm.Client, log *slog.Logger) error {
	starts, err := kafkaio.StreamStarts(ctx, adm, cfg.Group, busCfg.Topics().Events())
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	BuildStream(s, starts, kafkaio.StreamOptions{Checkpoint: cfg.Checkpoint, OutOfOrder: cfg.OutOfOrder},
		Options{Warehouse: whCfg, Brokers: busCfg.Brokers, Group: cfg.Group})
	log.Info("minute pipeline streaming", "partitions", len(starts), "group", cfg.Group, "runner", cfg.Runner)
	_, err = beamrun.Run(ctx, cfg.BeamOptions(), p)
	// The job's writer writes what the sink handed it before it stops; a restart waits for it
	// anyway, but callers of RunStreaming expect the tables final once it returns.
	wctx, cancel := context.WithTimeout(context.Background(), writerDrainTimeout)
	defer cancel()
	waitWriterStopped(wctx, Options{Warehouse: whCfg, Group: cfg.Group})
	if err != nil {
		return fmt.Errorf("minute pipeline job: %w", err)
	}
	return errors.New("minute pipeline job ended")
}

// watchLag refreshes the lag gauge every cfg.LagInterval until ctx ends.
func watchLag(ctx context.Context, adm *kadm.Client, cfg Config, topic string, g prometheus.Gauge) {
	t := time.NewTicker(cfg.LagInterval)
	defer t.Stop()
	for {
		if lag, err := LagOf(ctx, adm, cfg.Group, topic); err == nil {
			g.Set(float64(lag))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Lag returns how many records of citypulse.events.v1 the group has not committed yet.
func Lag(ctx context.Context, adm *kadm.Client, group string) (int64, error) {
	return LagOf(ctx, adm, group, bus.EventsTopic)
}

// LagOf returns how many records of topic (the events topic under the installation's prefix:
// bus.Config.Topics().Events()) the group has not committed yet.
func LagOf(ctx context.Context, adm *kadm.Client, group, topic string) (int64, error) {
	starts, err := kafkaio.StreamStarts(ctx, adm, group, topic)
	if err != nil {
		return 0, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	var lag int64
	for _, s := range starts {
		if e, ok := ends.Lookup(topic, s.Partition); ok && e.Offset > s.Start {
			lag += e.Offset - s.Start
		}
	}
	return lag, nil
}
