package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/ingest/event"
)

// Config is the checking side of the tracking plan.
type Config struct {
	// ReloadInterval is how often the Watcher polls the store for a new active version.
	ReloadInterval time.Duration `flag:"plan-reload-interval" help:"how often the collector looks for a newly applied tracking plan"`
}

// DefaultConfig polls every 5 seconds: a new plan takes effect within 5 s on every collector.
func DefaultConfig() Config {
	return Config{ReloadInterval: 5 * time.Second}
}

// Validate reports a setting that cannot work, naming its flag.
func (c Config) Validate() error {
	if c.ReloadInterval < 100*time.Millisecond {
		return fmt.Errorf("plan-reload-interval: %s: want at least 100ms", c.ReloadInterval)
	}
	return nil
}

// Watcher keeps the Checker of the store's active plan version and swaps in a new one when a
// new version is applied, without a restart. Check may be called from any goroutine at any
// time; before the first plan is loaded (or while none was ever applied) every event passes.
type Watcher struct {
	store *Store
	cfg   Config
	log   *slog.Logger
	cur   atomic.Pointer[Checker]
	m     watcherMetrics

	mu     sync.Mutex // serialises Load
	failed int        // the last version that could not be compiled
}

type watcherMetrics struct {
	version prometheus.Gauge
	reloads *prometheus.CounterVec // result: loaded, failed
}

// NewWatcher returns a Watcher on store, logging to log (nil: nowhere) and registering its
// metrics on reg (nil: not registered). Call Load once before serving, then Run.
func NewWatcher(store *Store, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{store: store, cfg: cfg, log: log, m: watcherMetrics{
		version: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citypulse_plan_active_version",
			Help: "Version of the tracking plan the checker enforces (0: none).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_plan_reloads_total",
			Help: "Tracking plan versions picked up by the watcher, by result (loaded, failed).",
		}, []string{"result"}),
	}}
	if reg != nil {
		for _, c := range []prometheus.Collector{w.m.version, w.m.reloads} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register tracking plan metrics: %w", err)
			}
		}
	}
	return w, nil
}

// Check judges an event against the current plan; see Checker.Check.
func (w *Watcher) Check(source string, e *event.Event) (*event.Rejection, []string) {
	c := w.cur.Load()
	if c == nil {
		return nil, nil
	}
	return c.Check(source, e)
}

// Version is the version of the plan being enforced, 0 when none.
func (w *Watcher) Version() int {
	if c := w.cur.Load(); c != nil {
		return c.version
	}
	return 0
}

// Load polls the store once and swaps in the active version when it differs from the current
// one. A version that cannot be enforced (it does not decode or compile: stored by a newer
// binary, or edited by hand) leaves the current checker in place; it is counted and returned
// once, then skipped until another version is applied. A store error is returned and the poll
// retried next time. Load is safe to call from several goroutines.
func (w *Watcher) Load(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.store.ActiveVersion(ctx)
	if err != nil {
		return err
	}
	if v == w.Version() || v == w.failed {
		return nil
	}
	if v == 0 { // the plan table was emptied by hand: nothing to enforce
		w.cur.Store(nil)
		w.m.version.Set(0)
		w.log.Warn("no tracking plan in the store; every event passes")
		return nil
	}
	rec, err := w.store.Get(ctx, v)
	if errors.Is(err, ErrNoVersion) { // removed between our two reads: look again next poll
		return nil
	}
	if err != nil && !errors.Is(err, errCorrupt) {
		return err
	}
	var c *Checker
	if err == nil {
		c, err = rec.Compile()
	}
	if err != nil {
		w.failed = v
		w.m.reloads.WithLabelValues("failed").Inc()
		return fmt.Errorf("tracking plan version %d cannot be enforced, keeping version %d: %w", v, w.Version(), err)
	}
	prev := w.Version()
	w.cur.Store(c)
	w.failed = 0
	w.m.version.Set(float64(v))
	w.m.reloads.WithLabelValues("loaded").Inc()
	w.log.Info("tracking plan loaded", "version", v, "previous", prev, "events", len(rec.Plan.Events),
		"applied_by", rec.AppliedBy, "applied_at", rec.AppliedAt)
	return nil
}

// Run loads the active plan, then polls every ReloadInterval until ctx ends, logging what
// Load returns (a plan that cannot be enforced once, store errors at every failed poll). It
// returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.ReloadInterval)
	defer t.Stop()
	for {
		if err := w.Load(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("tracking plan not reloaded", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
