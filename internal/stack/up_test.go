package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/stack"
	"github.com/citypulse/citypulse/internal/testenv"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// syncBuffer is the stack's output, written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestUpTwice runs the whole stack, waits for the simulated history to reach the API, stops it,
// and runs it again on the same state: the second run must load nothing twice.
func TestUpTwice(t *testing.T) {
	whCfg := testenv.ClickHouse(t) // a fresh database: the stack migrates it itself
	state := t.TempDir()
	cfg := stack.DefaultConfig()
	cfg.Warehouse = whCfg
	cfg.StateDir = state
	cfg.Bus.DataDir = state + "/kafka"
	cfg.Meta.DSN = "sqlite:" + state + "/citypulse.db"
	cfg.PlanFile = "../../ingest/plan/testdata/plan.yaml" // the simulated app follows the example plan
	cfg.Bus.Brokers = []string{"127.0.0.1:0"}
	cfg.Collector.Listen = "127.0.0.1:0"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Feeds.Listen = "127.0.0.1:0"
	cfg.Pipeline.Interval = 200 * time.Millisecond
	cfg.Simulate.Residents = 150
	cfg.Simulate.Days = 2
	cfg.Simulate.TrickleRate = 20
	// No catch-up: the history's days are older than the look-back, as 14 days are in `make
	// run` beside its 72 hours. The daily jobs must still cover them, once the history is in.
	cfg.Scheduler.CatchUp = 0

	first := runUp(t, cfg, func(api string, out *syncBuffer) {
		waitFor(t, out, "events are in dwd_events")
		ov := overview(t, api)
		if ov.Events == 0 || ov.ActiveUsers == 0 || len(ov.Children) != 20 {
			t.Errorf("overview after history: %d events, %d users, %d districts", ov.Events, ov.ActiveUsers, len(ov.Children))
		}
		m := regexp.MustCompile(`history: daily jobs queued for (\S+) … (\S+) \([1-9]\d* runs`)
		waitFor(t, out, m.String())
		span := m.FindStringSubmatch(out.String())
		// Every day of the history gets its users' daily rows, the oldest included.
		days := fmt.Sprintf("event_date BETWEEN toDate('%s') AND toDate('%s')", span[1], span[2])
		want := count(t, cfg, "SELECT uniqExact(event_date) FROM dwd_events FINAL WHERE "+days)
		if want == 0 {
			t.Fatalf("dwd_events holds none of the history's days %s … %s", span[1], span[2])
		}
		deadline := time.Now().Add(3 * time.Minute)
		for {
			got := count(t, cfg, "SELECT uniqExact(event_date) FROM dws_user_daily FINAL WHERE "+days)
			if got >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("dws_user_daily covers %d of the history's %d days:\n%s", got, want, out.String())
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	m := regexp.MustCompile(`history: (\d+) events sent, (\d+) accepted, 0 rejected`).FindStringSubmatch(first)
	if m == nil || m[1] != m[2] {
		t.Fatalf("first run did not load the history cleanly:\n%s", first)
	}
	if !strings.Contains(first, "tracking plan: version 1 enforced") {
		t.Fatalf("first run did not enforce the example plan:\n%s", first)
	}
	if !strings.Contains(first, "CityPulse stopped.") {
		t.Fatalf("first run did not stop cleanly:\n%s", first)
	}
	rows := count(t, cfg, "SELECT count() FROM dwd_events FINAL WHERE event_date < today()")

	sent, _ := strconv.Atoi(m[1])
	second := runUp(t, cfg, func(api string, out *syncBuffer) {
		waitFor(t, out, "live: trickling")
		time.Sleep(time.Second) // let the pipeline take a turn over whatever is unread
	})
	if !strings.Contains(second, "history: already loaded") || strings.Contains(second, "events sent") {
		t.Fatalf("second run reloaded the history:\n%s", second)
	}
	if again := count(t, cfg, "SELECT count() FROM dwd_events FINAL WHERE event_date < today()"); again != rows {
		t.Fatalf("history rows went from %d to %d on the second run", rows, again)
	}
	// Only live traffic may be read in the second run, not the history again.
	read := 0
	for _, m := range regexp.MustCompile(`msg="events pipeline run".* read=(\d+)`).FindAllStringSubmatch(second, -1) {
		n, _ := strconv.Atoi(m[1])
		read += n
	}
	if read >= sent/2 {
		t.Fatalf("the second run re-read the topic: %d records read, history was %d", read, sent)
	}
}

// runUp runs the stack until check returns, then stops it and returns its output.
func runUp(t *testing.T, cfg stack.Config, check func(api string, out *syncBuffer)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(out, nil)) // logs interleave with the output: the test reads both
	go func() { done <- stack.Up(ctx, cfg, log, out) }()
	api := waitFor(t, out, `big screen\s+(http://\S+)/dashboard`)
	check(api, out)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Up: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Up did not stop within 30 s of cancel\n%s", out.String())
	}
	return out.String()
}

// waitFor waits until the output matches re and returns its first group (or the match).
func waitFor(t *testing.T, out *syncBuffer, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(out.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("output never matched %q:\n%s", re, out.String())
	return ""
}

type overviewBody struct {
	ActiveUsers uint64            `json:"active_users"`
	Events      uint64            `json:"events"`
	Children    []json.RawMessage `json:"children"`
}

func overview(t *testing.T, api string) overviewBody {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/overview")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ov overviewBody
	if err := json.NewDecoder(resp.Body).Decode(&ov); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d %v", resp.StatusCode, err)
	}
	return ov
}

func count(t *testing.T, cfg stack.Config, q string) uint64 {
	t.Helper()
	conn, err := openConn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
