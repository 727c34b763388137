package stdjobs

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

const group = "test-events-group"

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startBroker starts the embedded broker (which creates the events topic) for the test.
func startBroker(t *testing.T) (bus.Config, *kgo.Client) {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.DataDir, cfg.Partitions = []string{"127.0.0.1:0"}, t.TempDir(), 2
	emb, err := bus.StartEmbedded(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	cfg.Brokers = emb.Addrs()
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cfg, cl
}

func testRun(day string) scheduler.Run {
	l, _ := time.ParseInLocation(time.DateOnly, day, shanghai)
	return scheduler.Run{ID: 1, Job: "test", Logical: l, End: l.AddDate(0, 0, 1), Attempt: 1, Log: slog.New(slog.DiscardHandler)}
}

// TestEventsLanded: the events job waits while the pipeline's group has not committed what the
// broker held at the start, and succeeds once it has.
func TestEventsLanded(t *testing.T) {
	ctx := testCtx(t)
	busCfg, cl := startBroker(t)
	deps := Deps{Bus: busCfg, EventsGroup: group}
	fn := eventsLanded(deps, 5*time.Millisecond)

	res, err := fn(ctx, testRun("2024-05-01"))
	if err != nil || res.Rows != 0 {
		t.Fatalf("empty topic: %+v, %v; want success with 0 rows", res, err)
	}
	for i := range 5 {
		r := &kgo.Record{Topic: bus.EventsTopic, Key: []byte{byte('a' + i)}, Value: []byte("{}")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The pipeline has committed nothing: the run's targets are 5 records ahead.
	adm := kadm.NewClient(cl)
	targets, err := endOffsets(ctx, adm, bus.EventsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if behind, err := lag(ctx, adm, group, bus.EventsTopic, targets); err != nil || behind != 5 {
		t.Fatalf("lag before the commit: %d, %v; want 5", behind, err)
	}
	type result struct {
		res scheduler.RunResult
		err error
	}
	waiting := make(chan result, 1)
	checked := &signalWriter{c: make(chan struct{})}
	run := testRun("2024-05-01")
	run.Log = slog.New(slog.NewTextHandler(checked, nil)) // its first line follows the first check
	go func() { res, err := fn(ctx, run); waiting <- result{res, err} }()
	<-checked.c
	ends, err := adm.ListEndOffsets(ctx, bus.EventsTopic)
	if err != nil {
		t.Fatal(err)
	}
	offsets := kadm.Offsets{}
	ends.Each(func(e kadm.ListedOffset) {
		offsets.Add(kadm.Offset{Topic: e.Topic, Partition: e.Partition, At: e.Offset, LeaderEpoch: -1})
	})
	if _, err := adm.CommitOffsets(ctx, group, offsets); err != nil {
		t.Fatal(err)
	}
	if behind, err := lag(ctx, adm, group, bus.EventsTopic, targets); err != nil || behind != 0 {
		t.Fatalf("lag after the commit: %d, %v; want 0", behind, err)
	}
	if w := <-waiting; w.err != nil || w.res.Rows != 5 {
		t.Fatalf("the waiting run: %+v, %v; want success once the pipeline committed, having waited for 5 records", w.res, w.err)
	}
}

// TestStandardDAG runs the standard jobs through the scheduler on the real broker and
// ClickHouse: events, then daily, whose aggregate matches the detail, twice with the same result.
func TestStandardDAG(t *testing.T) {
	whCfg, conn := testenv.Warehouse(t)
	busCfg, _ := startBroker(t)
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_key, region_code, service_id, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	rows := []struct {
		id, typ, user, region string
		service               uint32
	}{
		{"m1", "page", "u1", "510104001001", 1},
		{"m2", "page", "u2", "510104001001", 1},
		{"m3", "track", "u1", "510104001001", 2},
		{"m4", "page", "u3", "510105001001", 1},
	}
	for _, r := range rows {
		ts := day.Add(9 * time.Hour)
		if err := b.Append(day, ts, ts, r.id, r.typ, "", r.user, r.region, r.service, ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Bus: busCfg, EventsGroup: group, Warehouse: whCfg}
	jobs, err := Jobs(DefaultConfig(), deps)
	if err != nil {
		t.Fatal(err)
	}
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		cfg := scheduler.DefaultConfig()
		cfg.Instance, cfg.CatchUp = "test", 0
		s, err := scheduler.New(ctx, ms, cfg, jobs, nil, nil, scheduler.WithFuncs(Funcs(DefaultConfig(), deps)))
		if err != nil {
			t.Fatal(err)
		}
		for round := 1; round <= 2; round++ {
			res, err := s.Trigger(ctx, JobEvents, "2024-05-01", scheduler.EnqueueOptions{By: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Runs) != 2 || res.Runs[1].Job != JobDaily {
				t.Fatalf("trigger of events enqueued %+v, want events and daily", res.Runs)
			}
			if err := s.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Runs {
				got, err := s.GetRun(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != scheduler.StateSucceeded {
					t.Fatalf("round %d: %s %s: %s (%s)", round, got.Job, got.Partition, got.State, got.Error)
				}
				if got.Job == JobDaily && got.Rows != 3 {
					t.Errorf("round %d: daily wrote %d rows, want 3 (two regions × services)", round, got.Rows)
				}
			}
			var pv, users uint64
			if err := conn.QueryRow(ctx, `SELECT sum(page_views), uniqCombinedMerge(users) FROM dws_region_service_daily FINAL
WHERE event_date = toDate('2024-05-01')`).Scan(&pv, &users); err != nil {
				t.Fatal(err)
			}
			if pv != 3 || users != 3 {
				t.Errorf("round %d: aggregate %d page views, %d users; want 3 and 3", round, pv, users)
			}
		}
	})
}

func TestJobsConfig(t *testing.T) {
	bad := DefaultConfig()
	bad.EventsTimeout, bad.Poll = 0, -1
	if _, err := Jobs(bad, Deps{EventsGroup: group}); err == nil || !strings.Contains(err.Error(), "job-events-timeout") || !strings.Contains(err.Error(), "job-events-poll") {
		t.Errorf("bad config: %v", err)
	}
	if _, err := Jobs(DefaultConfig(), Deps{}); err == nil {
		t.Error("no consumer group: no error")
	}
	cfg := DefaultConfig()
	cfg.EventsSchedule = "0 25 * * *"
	jobs, err := Jobs(cfg, Deps{EventsGroup: group})
	if err != nil {
		t.Fatal(err)
	}
	if err := scheduler.CheckJobs(scheduler.DefaultConfig(), jobs); err == nil || !strings.Contains(err.Error(), "hour field") {
		t.Errorf("bad schedule: %v", err)
	}
}

// signalWriter closes c at its first write.
type signalWriter struct {
	once sync.Once
	c    chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.c) })
	return len(p), nil
}
