package scheduler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a wall time in Shanghai, "2006-01-02 15:04".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t and fires the timers that are due.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// Waiters is the number of pending timers.
func (c *fakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// waitFor polls cond until it holds, failing the test after a generous minute (a hang, not a
// timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// eachBackend runs fn on a fresh SQLite file and a fresh PostgreSQL schema, giving it the
// Config so that it can open the store several times (one per scheduler instance, as separate
// processes would).
func eachBackend(t *testing.T, fn func(t *testing.T, cfg metastore.Config)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, metastoretest.SQLiteConfig(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, metastoretest.PostgresConfig(t)) })
}

func openStore(t testing.TB, cfg metastore.Config) *metastore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := metastore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	return ms
}

// testConfig is DefaultConfig with the given instance name and no catch-up.
func testConfig(instance string) Config {
	cfg := DefaultConfig()
	cfg.Instance = instance
	cfg.CatchUp = 0
	cfg.Concurrency = 2
	return cfg
}

// newScheduler opens its own store on msCfg and builds a Scheduler with a private registry.
func newScheduler(t testing.TB, msCfg metastore.Config, cfg Config, clock Clock, jobs []Job) (*Scheduler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(testCtx(t), openStore(t, msCfg), cfg, jobs, nil, reg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// ledger records every call of a job function, and the order of starts and ends.
type ledger struct {
	mu     sync.Mutex
	calls  []jobCall
	events []string // "start job@logical", "end job@logical"
	// fail, when set, decides the error of a call.
	fail func(job string, logical time.Time, attempt int) error
}

type jobCall struct {
	job, logical, instance string
	attempt                int
}

func (l *ledger) fn(job, instance string) RunFunc {
	return func(ctx context.Context, r Run) (RunResult, error) {
		key := job + "@" + r.Logical.Format("2006-01-02T15:04")
		l.mu.Lock()
		l.events = append(l.events, "start "+key)
		l.mu.Unlock()
		r.Log.Info("computing", "day", r.Day())
		var err error
		if l.fail != nil {
			err = l.fail(job, r.Logical, r.Attempt)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.calls = append(l.calls, jobCall{job: job, logical: r.Logical.Format("2006-01-02T15:04"), attempt: r.Attempt, instance: instance})
		l.events = append(l.events, "end "+key)
		return RunResult{Rows: 10, Message: "ok"}, err
	}
}

// count returns how many times each "job@logical" was called.
func (l *ledger) count() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, c := range l.calls {
		out[c.job+"@"+c.logical]++
	}
	return out
}

// checkOrder fails the test unless every start of job@L comes after an end of each of
// deps[job]@L.
func (l *ledger) checkOrder(t testing.TB, deps map[string][]string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	ended := map[string]bool{}
	for _, e := range l.events {
		kind, key, _ := strings.Cut(e, " ")
		job, logical, _ := strings.Cut(key, "@")
		if kind == "end" {
			ended[key] = true
			continue
		}
		for _, d := range deps[job] {
			if !ended[d+"@"+logical] {
				t.Errorf("%s started before %s@%s ended; events: %v", key, d, logical, l.events)
			}
		}
	}
}

func (l *ledger) instances() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		if !slices.Contains(out, c.instance) {
			out = append(out, c.instance)
		}
	}
	slices.Sort(out)
	return out
}

func dayKey(job, day string) string { return fmt.Sprintf("%s@%sT00:00", job, day) }

// metricValue reads a counter or gauge.
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatalf("metric %v is neither counter nor gauge", m.Desc())
	return 0
}

// familySize counts the series of a metric family in reg.
func familySize(t testing.TB, reg *prometheus.Registry, name string) int {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

func metastoreSQLite(t testing.TB) metastore.Config { return metastoretest.SQLiteConfig(t) }
