package minute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

// post sends events to the collector in one batch and fails unless all are accepted.
func post(t testing.TB, s *stacktest.Stack, evs ...tev) {
	t.Helper()
	batch := make([]map[string]any, len(evs))
	for i, e := range evs {
		batch[i] = e.segment()
	}
	body, _ := json.Marshal(map[string]any{"batch": batch})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth(stacktest.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Accepted int `json:"accepted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK || a.Accepted != len(evs) {
		t.Fatalf("collector answered %d, accepted %d of %d (%v)", resp.StatusCode, a.Accepted, len(evs), err)
	}
}

// streaming is a RunStreaming in the background.
type streaming struct {
	cancel context.CancelFunc
	done   chan error
}

func startStreaming(t *testing.T, s *stacktest.Stack, cfg Config) *streaming {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := &streaming{cancel: cancel, done: make(chan error, 1)}
	go func() { st.done <- RunStreaming(ctx, cfg, s.Bus, s.Warehouse, s.Log, nil) }()
	t.Cleanup(func() { st.stop(t) })
	return st
}

func (st *streaming) stop(t *testing.T) {
	t.Helper()
	if st.cancel == nil {
		return
	}
	st.cancel()
	st.cancel = nil
	select {
	case err := <-st.done:
		if err != nil {
			t.Errorf("RunStreaming: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunStreaming did not return within 30 s of its context's end")
	}
}

// waitCaughtUp waits until the group has committed everything in the events topic.
func waitCaughtUp(t testing.TB, adm *kadm.Client, group string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		lag, err := Lag(context.Background(), adm, group)
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			offs, ferr := adm.FetchOffsets(context.Background(), group)
			ends, _ := adm.ListEndOffsets(context.Background(), bus.EventsTopic)
			t.Fatalf("group %s still behind after 60 s: lag %d, err %v; committed %v (%v), ends %v", group, lag, err, offs, ferr, ends)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// workload returns n events of a few users and sessions over minutes from t0, in three
// communities of two districts, and the ids they use.
func workload(prefix string, t0 time.Time, n int) []tev {
	regions := []string{"510104017001", "510104017002", "510105001001"}
	apps := []string{"市民云", "h5"}
	types := []string{"page", "track", "screen", "page"}
	out := make([]tev, n)
	for i := range out {
		u := i % 17
		out[i] = tev{ID: fmt.Sprintf("%s-%d", prefix, i), Type: types[i%len(types)], User: fmt.Sprintf("u%d", u),
			Session: fmt.Sprintf("s%d-%d", u, i/40), Region: regions[u%len(regions)], Service: uint32(1 + i%3),
			App: apps[u%len(apps)], At: t0.Add(time.Duration(i*7919%(20*60)) * time.Second)}
	}
	return out
}

// TestStreamingKillRestart streams events through the collector, the broker and RunStreaming
// into the minute tables while the job is cancelled mid-run and started again, the group is
// rewound (a crash between the write and the commit), clients resend events and late events
// arrive: the series equal a recount of the distinct events sent, and the city's per-minute
// numbers equal a recount in SQL over dwd_events written by the events pipeline.
func TestStreamingKillRestart(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cfg := DefaultConfig()
	cfg.Checkpoint, cfg.RestartBackoff = 50*time.Millisecond, 100*time.Millisecond

	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	all := workload("a", t0, 600)
	first, second := all[:300], all[300:]
	var sent []tev

	job := startStreaming(t, s, cfg)
	for i := 0; i < len(first); i += 50 {
		post(t, s, first[i:i+50]...)
	}
	sent = append(sent, first...)
	waitCaughtUp(t, adm, cfg.Group)

	// Kill mid-run: cancel while batches keep arriving, then send the rest while it is down.
	for i := 0; i < 150; i += 25 {
		post(t, s, second[i:i+25]...)
		if i == 50 {
			job.stop(t)
		}
	}
	post(t, s, second[150:]...)
	sent = append(sent, second...)
	// Resends of events already counted, and late events (an hour before everything else).
	post(t, s, first[:20]...)
	sent = append(sent, first[:20]...)
	late := workload("late", t0.Add(-time.Hour), 30)
	post(t, s, late...)
	sent = append(sent, late...)

	job = startStreaming(t, s, cfg)
	waitCaughtUp(t, adm, cfg.Group)
	from, to := t0.Add(-2*time.Hour), t0.Add(time.Hour)
	queries := queriesFor(from, to, "510104017001", 2, "h5")
	checkSeries(t, s.Conn, sent, queries)

	// A crash between writing and committing: stop, rewind the group to the start and restart,
	// so everything is read again. Nothing may change.
	job.stop(t)
	rewind(t, adm, cfg.Group)
	startStreaming(t, s, cfg)
	waitCaughtUp(t, adm, cfg.Group)
	checkSeries(t, s.Conn, sent, queries)

	// The events pipeline's dwd_events, recounted in SQL, agrees minute by minute.
	s.RunOnce()
	checkAgainstDWD(t, s, from, to)
}

// rewind commits offset 0 for every partition of the events topic under group.
func rewind(t *testing.T, adm *kadm.Client, group string) {
	t.Helper()
	offs := kadm.Offsets{}
	for p := int32(0); p < int32(bus.DefaultConfig().Partitions); p++ {
		offs.Add(kadm.Offset{Topic: bus.EventsTopic, Partition: p, At: 0, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(context.Background(), group, offs); err != nil {
		t.Fatal(err)
	}
}

// checkAgainstDWD compares the city's minute series with SQL over dwd_events FINAL.
func checkAgainstDWD(t *testing.T, s *stacktest.Stack, from, to time.Time) {
	t.Helper()
	got, err := Series(context.Background(), s.Conn, Query{Region: "5101", From: from, To: to, Step: StepMinute})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Conn.Query(context.Background(), `SELECT toStartOfMinute(event_time) AS m, countIf(type IN ('page', 'screen')), count(),
		uniqExact(user_key), uniqExactIf(session_id, session_id != '')
		FROM dwd_events FINAL WHERE region_code LIKE '5101%' AND event_time >= ? AND event_time < ? GROUP BY m ORDER BY m`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[int64]Point{}
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.Time, &p.PageViews, &p.Events, &p.Users, &p.Sessions); err != nil {
			t.Fatal(err)
		}
		want[p.Time.Unix()] = p
	}
	n := 0
	for _, g := range got {
		w := want[g.Time.Unix()]
		if g.PageViews != w.PageViews || g.Events != w.Events || g.Users != w.Users || g.Sessions != w.Sessions {
			t.Errorf("minute %s: minute table %d/%d/%d/%d, dwd_events %d/%d/%d/%d (page views/events/users/sessions)",
				g.Time.Format(time.RFC3339), g.PageViews, g.Events, g.Users, g.Sessions, w.PageViews, w.Events, w.Users, w.Sessions)
		}
		n += int(g.Events)
	}
	if n == 0 {
		t.Fatal("no events in the city's series")
	}
}

// TestMicroBatches runs the same pipeline as bounded runs over planned ranges, committed after
// each run, as the Runner does: the numbers equal the recount, and a run over everything again
// (a fresh group) changes nothing.
func TestMicroBatches(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	evs := workload("b", t0, 200)
	opt := Options{Warehouse: s.Warehouse, Brokers: s.Bus.Brokers}

	runBatch := func(group string) {
		t.Helper()
		ctx := context.Background()
		ranges, err := kafkaio.PlanRanges(ctx, adm, group, bus.EventsTopic, 40)
		if err != nil {
			t.Fatal(err)
		}
		if len(ranges) == 0 {
			t.Fatal("nothing to read")
		}
		p, sc := beam.NewPipelineWithRoot()
		BuildRanges(sc, ranges, opt)
		if _, err := beam.Run(ctx, "prism", p); err != nil {
			t.Fatal(err)
		}
		if err := kafkaio.Commit(ctx, adm, group, ranges); err != nil {
			t.Fatal(err)
		}
	}
	post(t, s, evs[:120]...)
	runBatch("mb")
	post(t, s, evs[120:]...)
	post(t, s, evs[:10]...) // resends
	runBatch("mb")
	runBatch("mb-again")
	checkSeries(t, s.Conn, evs, queriesFor(t0.Add(-time.Hour), t0.Add(time.Hour), "510105001001", 3, "市民云"))
}

// TestStreamingRecoversFromFailures starts the streaming job before its ClickHouse database
// exists: every start fails (the sink cannot connect) and is retried after the backoff; once the
// database is migrated, the job catches up and nothing sent meanwhile is lost.
func TestStreamingRecoversFromFailures(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	wh := testenv.ClickHouse(t) // a database nobody has created yet
	cfg := DefaultConfig()
	cfg.RestartBackoff = 100 * time.Millisecond
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunStreaming(ctx, cfg, s.Bus, wh, s.Log, reg) }()
	defer func() { cancel(); <-done }()

	t0 := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	evs := workload("f", t0, 60)
	post(t, s, evs...)
	deadline := time.Now().Add(30 * time.Second)
	for restarts(t, reg) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the failing job was not restarted twice within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lag, err := Lag(context.Background(), adm, cfg.Group); err != nil || lag != 60 {
		t.Fatalf("lag %d (%v) while the sink cannot write, want all 60 records uncommitted", lag, err)
	}
	if _, err := warehouse.Migrate(context.Background(), wh, nil); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, adm, cfg.Group)
	conn, err := warehouse.Open(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	checkSeries(t, conn, evs, queriesFor(t0.Add(-time.Hour), t0.Add(time.Hour), "510104017002", 1, "市民云"))
}

func restarts(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "citypulse_minute_job_starts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == "restart" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
