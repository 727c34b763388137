package minute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

// benchStack is the data path for a benchmark (stacktest needs a *testing.T): the embedded
// broker, the collector behind httptest, a migrated ClickHouse database and RunStreaming.
type benchStack struct {
	bus  bus.Config
	url  string
	conn driver.Conn
}

func startBenchStack(b *testing.B) (*benchStack, func()) {
	b.Helper()
	wh, conn := testenv.Warehouse(b)
	busCfg := bus.DefaultConfig()
	busCfg.Brokers, busCfg.DataDir = []string{"127.0.0.1:0"}, b.TempDir()
	log := slog.New(slog.DiscardHandler)
	emb, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		b.Fatal(err)
	}
	busCfg.Brokers = emb.Addrs()
	prod, err := bus.NewClient(busCfg, collector.ProducerOpts()...)
	if err != nil {
		b.Fatal(err)
	}
	col, err := collector.New(collector.DefaultConfig(), prod, log, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(col.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunStreaming(ctx, DefaultConfig(), busCfg, wh, log, nil) }()
	return &benchStack{bus: busCfg, url: srv.URL, conn: conn}, func() {
		cancel()
		<-done
		srv.Close()
		prod.Close()
		emb.Close()
	}
}

func (s *benchStack) post(evs ...tev) error {
	batch := make([]map[string]any, len(evs))
	for i, e := range evs {
		batch[i] = e.segment()
	}
	body, _ := json.Marshal(map[string]any{"batch": batch})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth(stacktest.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("collector answered %d", resp.StatusCode)
	}
	return nil
}

const probeRegion = "510199999001"

// BenchmarkEndToEndLatency measures, per probe event, the time from the collector's request to
// the probe being counted in dws_minute_metrics (the table Series reads), while a background
// load of 500 events/s (batches of 50) flows through the same path. b.N probes are sent 100 ms
// apart by one user (one partition, so they become visible in order); visibility is polled
// every 10 ms. As a baseline from the same run it measures collector → Kafka (a consumer of the
// events topic sees the probe): the pipeline's share is the difference.
// Run: go test ./pipelines/minute -run '^$' -bench EndToEndLatency -benchtime 300x
func BenchmarkEndToEndLatency(b *testing.B) {
	s, stop := startBenchStack(b)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	sent := make([]time.Time, b.N)
	inKafka := make([]time.Time, b.N)
	visible := make([]time.Time, b.N)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // background load
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ctx.Err() == nil; i++ {
			evs := workload(fmt.Sprintf("load%d", i), time.Now().Add(-time.Minute), 50)
			for j := range evs {
				evs[j].At = time.Now()
			}
			_ = s.post(evs...)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}()
	go func() { // baseline: the probe in Kafka
		defer wg.Done()
		cl, err := bus.NewClient(s.bus, kgo.ConsumeTopics(bus.EventsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			return
		}
		defer cl.Close()
		for ctx.Err() == nil {
			f := cl.PollFetches(ctx)
			now := time.Now()
			f.EachRecord(func(r *kgo.Record) {
				var e struct{ MessageID string }
				if json.Unmarshal(r.Value, &e) != nil {
					return
				}
				var i int
				if _, err := fmt.Sscanf(e.MessageID, "probe-%d", &i); err == nil && i < len(inKafka) {
					mu.Lock()
					inKafka[i] = now
					mu.Unlock()
				}
			})
		}
	}()
	go func() { // visibility in the minute table
		defer wg.Done()
		seen := 0
		for ctx.Err() == nil && seen < b.N {
			var n uint64
			if err := s.conn.QueryRow(ctx, "SELECT sumMerge(events) FROM dws_minute_metrics WHERE region_code = ?", probeRegion).Scan(&n); err == nil {
				now := time.Now()
				for ; seen < int(n) && seen < b.N; seen++ {
					visible[seen] = now
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	time.Sleep(3 * time.Second) // the job starts and the load settles
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		p := tev{ID: fmt.Sprintf("probe-%d", i), Type: "page", User: "probe", Session: "probe", Region: probeRegion, Service: 1, App: "bench", At: time.Now()}
		if err := s.post(p); err != nil {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := !visible[b.N-1].IsZero() && !inKafka[b.N-1].IsZero()
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	wg.Wait()

	var e2e, bus []time.Duration
	for i := 0; i < b.N; i++ {
		if visible[i].IsZero() || inKafka[i].IsZero() {
			b.Fatalf("probe %d not seen within 30 s (kafka %v, minute table %v)", i, inKafka[i], visible[i])
		}
		e2e = append(e2e, visible[i].Sub(sent[i]))
		bus = append(bus, inKafka[i].Sub(sent[i]))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(e2e, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(e2e, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(bus, 0.50)), "kafka-p50-ms")
	b.ReportMetric(ms(percentile(bus, 0.99)), "kafka-p99-ms")
	b.ReportMetric(float64(percentile(e2e, 0.50))/float64(max(percentile(bus, 0.50), time.Millisecond)), "p50-vs-kafka")
	b.ReportMetric(0, "ns/op")
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

// BenchmarkBacklogDrain produces n events straight to the events topic (n = b.N, or
// CITYPULSE_BENCH_MINUTE_EVENTS when set: 10000000 for the figure), then measures how
// fast the streaming job drains them into the minute tables (until its group's lag is zero).
// Events are spread over a day, event i at second i mod 86400 (every batch touches most
// minutes); with CITYPULSE_BENCH_MINUTE_ORDERED=1 they arrive in time order over one hour, event
// i at second 3600·i/n (a backlog after an outage). Two baselines from the same run: a bare
// franz-go consumer of the same records, and the SQL twin, the same computation done by
// ClickHouse alone as INSERT … SELECT statements over the same events in a plain table (sqlTwin).
// Run: go test ./pipelines/minute -run '^$' -bench BacklogDrain -benchtime 1000000x -timeout 60m
func BenchmarkBacklogDrain(b *testing.B) {
	n := b.N
	if v := os.Getenv("CITYPULSE_BENCH_MINUTE_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("CITYPULSE_BENCH_MINUTE_EVENTS=%q: want a positive count", v)
		}
	}
	at := func(i int) time.Duration { return time.Duration(i%86400) * time.Second }
	if os.Getenv("CITYPULSE_BENCH_MINUTE_ORDERED") == "1" {
		at = func(i int) time.Duration { return time.Duration(int64(i)*3600/int64(n)) * time.Second }
	}
	wh, conn := testenv.Warehouse(b)
	busCfg := bus.DefaultConfig()
	busCfg.Brokers, busCfg.DataDir = []string{"127.0.0.1:0"}, b.TempDir()
	log := slog.New(slog.DiscardHandler)
	emb, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	busCfg.Brokers = emb.Addrs()
	cl, err := bus.NewClient(busCfg, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
	const chunk = 100_000
	for from := 0; from < n; from += chunk {
		evs := workload(fmt.Sprintf("d%d", from), t0, min(chunk, n-from))
		for j := range evs {
			i := from + j
			evs[j].User = fmt.Sprintf("u%d", i%5000)
			evs[j].At = t0.Add(at(i))
			cl.Produce(ctx, &kgo.Record{Topic: bus.EventsTopic, Key: []byte(evs[j].User), Value: evs[j].canonical()}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}

	// Baseline: a bare consumer of the same records.
	start := time.Now()
	cons, err := bus.NewClient(busCfg, kgo.ConsumeTopics(bus.EventsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	for got := 0; got < n; {
		got += cons.PollFetches(ctx).NumRecords()
	}
	cons.Close()
	bare := time.Since(start)

	b.ResetTimer()
	start = time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	cfg := DefaultConfig()
	go func() { done <- RunStreaming(rctx, cfg, busCfg, wh, log, nil) }()
	adm := kadm.NewClient(cl)
	for {
		if lag, err := Lag(ctx, adm, cfg.Group); err == nil && lag == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	twin := sqlTwin(b, conn, n)
	b.ReportMetric(float64(n)/took.Seconds(), "events/s")
	b.ReportMetric(float64(n)/twin.Seconds(), "sql-twin-events/s")
	b.ReportMetric(took.Seconds()/twin.Seconds(), "x-sql-twin")
	b.ReportMetric(float64(n)/bare.Seconds(), "bare-consumer-events/s")
	b.ReportMetric(took.Seconds()/bare.Seconds(), "x-bare-consumer")
}
