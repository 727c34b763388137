package plan

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// value reads a counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// waitFor polls cond until it holds; the deadline only bounds a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parseOne makes a canonical event the way the collector does, from a Segment batch item.
func parseOne(t *testing.T, item string) *event.Event {
	t.Helper()
	evs, rejs, err := event.ParseBatch([]byte(`{"batch":[`+item+`]}`), time.Now().UTC(), "citypulse-app")
	if err != nil || len(rejs) != 0 || len(evs) != 1 {
		t.Fatalf("parse %s: %v %v", item, err, rejs)
	}
	return &evs[0]
}

// TestWatcherHotReload is the tracking plan end to end on each database: apply a plan, let a
// running Watcher enforce it, apply a new version and see the Watcher enforce that one without a
// restart, then survive a broken stored version.
func TestWatcherHotReload(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newTestStore(t, ms)
		logs := &syncBuffer{}
		reg := prometheus.NewRegistry()
		w, err := NewWatcher(s, Config{ReloadInterval: 100 * time.Millisecond}, slog.New(slog.NewTextHandler(logs, nil)), reg)
		if err != nil {
			t.Fatal(err)
		}
		searchOK := parseOne(t, `{"type":"track","event":"search","anonymousId":"a1","properties":{"query":"公积金"}}`)
		searchLong := parseOne(t, `{"type":"track","event":"search","anonymousId":"a1","properties":{"query":"`+strings.Repeat("查", 60)+`"}}`)
		shake := parseOne(t, `{"type":"track","event":"shake_phone","anonymousId":"a1"}`)

		// No plan yet: everything passes.
		if err := w.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if rej, flags := w.Check("citypulse-app", shake); rej != nil || flags != nil || w.Version() != 0 {
			t.Fatalf("no plan: %+v %v version %d", rej, flags, w.Version())
		}

		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()

		p := loadTestPlan(t)
		if _, _, err := s.Apply(ctx, p, ApplyOptions{By: "test"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "version 1", func() bool { return w.Version() == 1 })
		if rej, _ := w.Check("citypulse-app", searchOK); rej != nil {
			t.Fatalf("v1 rejected a valid search: %+v", rej)
		}
		if rej, _ := w.Check("citypulse-app", searchLong); rej != nil {
			t.Fatalf("v1 rejected a 60-character query: %+v", rej)
		}
		if rej, flags := w.Check("citypulse-app", shake); rej != nil || len(flags) != 1 || flags[0] != FlagUnknownEvent {
			t.Fatalf("v1 on an unknown event: %+v %v; want the unknown_event flag", rej, flags)
		}

		// Version 2: shorter queries, unknown events rejected.
		p2 := loadTestPlan(t)
		p2.UnknownEvents = Reject
		q := p2.Events[2].Properties["query"]
		fifty := 50
		q.MaxLength = &fifty
		p2.Events[2].Properties["query"] = q
		if v, _, err := s.Apply(ctx, p2, ApplyOptions{By: "test"}); err != nil || v != 2 {
			t.Fatalf("apply v2: %d %v", v, err)
		}
		waitFor(t, "version 2", func() bool { return w.Version() == 2 })
		if rej, _ := w.Check("citypulse-app", searchLong); rej == nil || rej.Rule != RuleMaxLength || rej.Field != "properties.query" || !strings.Contains(rej.Reason, "maximum 50") {
			t.Fatalf("v2 on a 60-character query: %+v; want max_length", rej)
		}
		if rej, _ := w.Check("citypulse-app", shake); rej == nil || rej.Rule != RuleUnknownEvent || !strings.Contains(rej.Reason, "(version 2)") {
			t.Fatalf("v2 on an unknown event: %+v; want unknown_event", rej)
		}

		// A stored version this binary cannot enforce (as if written by a newer one) leaves
		// version 2 in force, is counted once, and a later good version is picked up.
		if _, err := ms.DB().ExecContext(ctx,
			`INSERT INTO tracking_plan_versions (version, sha256, plan_json, source, applied_by, applied_at, event_count)
			 VALUES (3, 'x', '{"events":[{"name":"a","type":"hologram"}]}', '', 'future', 0, 1)`); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the failed reload", func() bool {
			return value(t, w.m.reloads.WithLabelValues("failed")) == 1
		})
		if w.Version() != 2 {
			t.Fatalf("a broken version replaced the checker: version %d", w.Version())
		}
		if rej, _ := w.Check("citypulse-app", shake); rej == nil || rej.Rule != RuleUnknownEvent {
			t.Fatalf("after the broken version, v2 is not enforced: %+v", rej)
		}
		if v, _, err := s.Apply(ctx, p, ApplyOptions{By: "test"}); err != nil || v != 4 {
			t.Fatalf("apply v4: %d %v", v, err)
		}
		waitFor(t, "version 4", func() bool { return w.Version() == 4 })
		if rej, _ := w.Check("citypulse-app", searchLong); rej != nil {
			t.Fatalf("v4 rejected a 60-character query: %+v", rej)
		}

		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := value(t, w.m.version); got != 4 {
			t.Errorf("citypulse_plan_active_version = %v, want 4", got)
		}
		if got := value(t, w.m.reloads.WithLabelValues("loaded")); got != 3 {
			t.Errorf("loaded reloads = %v, want 3", got)
		}
		out := logs.String()
		for _, want := range []string{"tracking plan loaded", "version=4", "previous=2", "tracking plan not reloaded", `unknown type \"hologram\"`} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if strings.Count(out, "tracking plan not reloaded") != 1 {
			t.Errorf("the broken version was reported more than once:\n%s", out)
		}
	})
}

func TestWatcherConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{ReloadInterval: time.Millisecond}).Validate(); err == nil || !strings.Contains(err.Error(), "plan-reload-interval") {
		t.Fatalf("err = %v", err)
	}
}
