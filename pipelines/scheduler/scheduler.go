package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/metastore"
)

// Scheduler enqueues the firings of its jobs' schedules and executes runnable runs, recording
// everything in the metadata store. Several Schedulers (processes or replicas) may share a
// store: each run executes once. Its query and enqueue methods (Jobs, Runs, Trigger, Backfill)
// work without Run, for the API and the CLI. It is safe for concurrent use.
type Scheduler struct {
	cfg   Config
	owner string
	dag   *dag
	st    *store
	log   *slog.Logger
	clock Clock
	m     *metrics

	mu       sync.Mutex
	lastScan time.Time // firings up to here are enqueued; zero before the first scan
	busy     int       // attempts executing
	wake     chan struct{}
	attempts sync.WaitGroup
}

// Option adjusts a Scheduler.
type Option func(*options)

type options struct {
	clock Clock
	funcs map[string]RunFunc
}

// WithClock replaces the real clock (tests).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithFuncs names run functions that jobs declared only in Config.JobsFile may use (their run
// field). The standard ones are in pipelines/scheduler/stdjobs.
func WithFuncs(funcs map[string]RunFunc) Option { return func(o *options) { o.funcs = funcs } }

// New validates cfg and the jobs (with Config.JobsFile applied over them), migrates the
// scheduler's tables in ms, and registers its metrics on reg (nil: none). It starts nothing:
// call Run.
func New(ctx context.Context, ms *metastore.Store, cfg Config, jobs []Job, log *slog.Logger, reg prometheus.Registerer, opts ...Option) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	o := options{clock: realClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.JobsFile != "" {
		data, err := os.ReadFile(cfg.JobsFile)
		if err != nil {
			return nil, fmt.Errorf("scheduler-jobs-file: %w", err)
		}
		if jobs, err = ApplyYAML(jobs, data, o.funcs); err != nil {
			return nil, fmt.Errorf("scheduler-jobs-file %s: %w", cfg.JobsFile, err)
		}
	}
	d, err := newDAG(cfg, jobs)
	if err != nil {
		return nil, fmt.Errorf("scheduler jobs: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if _, err := ms.Migrate(ctx, Schema); err != nil {
		return nil, err
	}
	owner := cfg.instanceName()
	return &Scheduler{
		cfg: cfg, owner: owner, dag: d, st: &store{ms: ms, db: ms.DB()},
		log: log.With("component", "scheduler", "instance", owner), clock: o.clock, m: m,
		wake: make(chan struct{}, 1),
	}, nil
}

// Location is the scheduler's default zone (Config.Timezone), for showing times.
func (s *Scheduler) Location() *time.Location {
	loc, err := time.LoadLocation(s.cfg.Timezone)
	if err != nil {
		return time.UTC // Validate made this impossible
	}
	return loc
}

// Instance is the name this scheduler holds leases under.
func (s *Scheduler) Instance() string { return s.owner }

// Run schedules and executes until ctx ends: first it enqueues the firings missed within
// Config.CatchUp, then every PollInterval (or when a run finishes) it enqueues due firings and
// starts runnable runs, up to Concurrency at once. When ctx ends, running attempts are cancelled
// and recorded as interrupted (their runs go back to pending, for this or another instance), and
// Run returns nil once they have.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info("scheduler started", "jobs", len(s.dag.order), "catch_up", s.cfg.CatchUp, "lease_ttl", s.cfg.LeaseTTL)
	defer s.attempts.Wait()
	var pruned time.Time
	for {
		if err := s.step(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduler pass failed; will retry", "err", err)
		}
		if now := s.clock.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			if _, _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("pruning run history failed; will retry", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("scheduler stopping: waiting for running attempts")
			return nil
		case <-s.clock.After(s.cfg.PollInterval):
		case <-s.wake:
		}
	}
}

// Tick is one pass done to the end, for tests and one-shot use: it enqueues due firings (the
// missed ones on the first pass), then starts runnable runs and waits for them, again and again
// until nothing more can start now (so a chain of dependencies whose retries are not waiting for
// their backoff completes in one Tick). Do not mix it with Run on one Scheduler.
func (s *Scheduler) Tick(ctx context.Context) error { return s.drain(ctx, true) }

// RunQueued is Tick without enqueueing any firing: it executes the runs already queued that can
// start now, until none can (the CLI's -run).
func (s *Scheduler) RunQueued(ctx context.Context) error { return s.drain(ctx, false) }

func (s *Scheduler) drain(ctx context.Context, schedule bool) error {
	for {
		started, err := s.dispatch(ctx, schedule)
		s.attempts.Wait()
		if err != nil || started == 0 {
			return err
		}
	}
}

// step is one pass of Run: enqueue due firings and start what can start.
func (s *Scheduler) step(ctx context.Context) error {
	_, err := s.dispatch(ctx, true)
	return err
}

// candidatePage is how many runnable-looking runs one query reads.
const candidatePage = 100

// dispatch enqueues due firings (with schedule), then goes through the runnable-looking runs
// (oldest logical time first) and starts those that can start, while slots are free.
func (s *Scheduler) dispatch(ctx context.Context, schedule bool) (started int, err error) {
	if schedule {
		if err := s.enqueueDue(ctx); err != nil {
			return 0, err
		}
	}
	var errs []error
	after := candidate{logical: math.MinInt64}
	for s.freeSlots() > 0 {
		cands, err := s.st.candidates(ctx, s.clock.Now(), after.logical, after.id, candidatePage)
		if err != nil {
			return started, errors.Join(append(errs, err)...)
		}
		for _, c := range cands {
			if s.freeSlots() == 0 {
				break
			}
			ok, err := s.consider(ctx, c)
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				started++
			}
		}
		if len(cands) < candidatePage {
			break
		}
		after = cands[len(cands)-1]
	}
	return started, errors.Join(errs...)
}

func (s *Scheduler) freeSlots() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.cfg.Concurrency-s.busy, 0)
}

// enqueueDue enqueues the firings since the last pass; on the first pass, those within the
// catch-up look-back (every partition for Day and Hour jobs, the latest firing only for Instant
// jobs), as catch-up runs.
func (s *Scheduler) enqueueDue(ctx context.Context) error {
	now := s.clock.Now()
	s.mu.Lock()
	from, first := s.lastScan, s.lastScan.IsZero()
	s.mu.Unlock()
	if first {
		from = now.Add(-s.cfg.CatchUp)
	}
	var items []enqueueItem
	for _, name := range s.dag.order {
		if !now.After(from) {
			break
		}
		j := s.dag.jobs[name]
		if j.sched == nil || j.Disabled {
			continue
		}
		firings := j.sched.Between(from.In(j.loc), now.In(j.loc), 0)
		trigger := TriggerSchedule
		if first {
			trigger = TriggerCatchUp
			if j.Partition == Instant && len(firings) > 1 {
				firings = firings[len(firings)-1:]
			}
		}
		for _, f := range firings {
			l := j.logicalOf(f)
			items = append(items, s.itemsFor(j, l, trigger, "scheduler", false)...)
		}
	}
	if len(items) > 0 {
		done, err := s.st.enqueue(ctx, items, now)
		if err != nil {
			return err
		}
		s.countEnqueued(items, done)
	}
	s.mu.Lock()
	if now.After(s.lastScan) {
		s.lastScan = now
	}
	s.mu.Unlock()
	return nil
}

// itemsFor is the runs one request for job j at logical time l creates: j, then its dependents
// (every one for a person's request; for a schedule's firing, those without a schedule of
// their own), in topological order. Disabled jobs are left out.
func (s *Scheduler) itemsFor(j *job, l time.Time, trigger Trigger, by string, noDownstream bool) []enqueueItem {
	items := []enqueueItem{{job: j.Name, logical: l, trigger: trigger, by: by, max: j.maxAttempts}}
	if noDownstream {
		return items
	}
	for _, name := range j.downstream {
		d := s.dag.jobs[name]
		if d.Disabled || (d.sched != nil && (trigger == TriggerSchedule || trigger == TriggerCatchUp)) {
			continue
		}
		items = append(items, enqueueItem{job: d.Name, logical: l, trigger: trigger, by: by, max: d.maxAttempts})
	}
	return items
}

func (s *Scheduler) countEnqueued(items []enqueueItem, done []enqueued) {
	for i, e := range done {
		if e.Created {
			s.m.enqueued.WithLabelValues(items[i].job, string(items[i].trigger)).Inc()
		}
	}
}

// wakeUp makes Run look again at once.
func (s *Scheduler) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
