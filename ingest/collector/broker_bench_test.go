package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
)

// benchConns is the number of requests in flight, as loadgen's default -conns.
const benchConns = 64

// benchBatch is the events per request, as loadgen's default -batch.
const benchBatch = 50

// BenchmarkCollectorBrokers loads, closed loop with benchConns requests in flight, a bare
// net/http handler that reads and discards the body (the baseline), the collector on an embedded
// broker persisting to disk, and — when $CITYPULSE_TEST_KAFKA names one — the collector on that
// real Kafka. Each reports events/s and the p50/p99 request latency; compare the sides of one
// run (scripts/bench-collector-real.sh prints the ratios). The generator runs in the same
// process, so the absolute figures are lower than loadgen's (scripts/bench-collector.sh).
func BenchmarkCollectorBrokers(b *testing.B) {
	bodies := benchBodies(b, 64)
	b.Run("bare", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"success":true,"accepted":50,"rejected":[]}`))
		})
		loadServer(b, h, bodies)
	})
	b.Run("embedded", func(b *testing.B) {
		loadServer(b, benchCollector(b, testenv.EmbeddedKafka(b)), bodies)
	})
	b.Run("kafka", func(b *testing.B) {
		k, ok := testenv.RealKafka(b)
		if !ok {
			b.Skipf("set %s to a real broker (deploy/kafka/kafka.sh start DIR 1; then DIR)", testenv.KafkaEnv)
		}
		loadServer(b, benchCollector(b, k), bodies)
	})
}

// benchCollector is the collector as `citypulse up` runs it (ProducerOpts) on k.
func benchCollector(b *testing.B, k *testenv.KafkaBroker) http.Handler {
	b.Helper()
	cl := k.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cl, k.Bus.Partitions, k.Bus.Topics().Core()...); err != nil {
		b.Fatal(err)
	}
	prod := k.Client(ProducerOpts()...)
	c, err := New(DefaultConfig(), prod, testLog(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	return c.Handler()
}

// benchBodies returns n distinct batch bodies of benchBatch valid track events each.
func benchBodies(b *testing.B, n int) [][]byte {
	b.Helper()
	now := time.Now().UTC()
	out := make([][]byte, n)
	for i := range out {
		evs := make([]map[string]any, benchBatch)
		for j := range evs {
			evs[j] = map[string]any{
				"type": "track", "event": "service_open",
				"messageId":   fmt.Sprintf("bench-%d-%d-%d", now.UnixNano(), i, j),
				"anonymousId": fmt.Sprintf("anon-%d", (i*benchBatch+j)%997),
				"timestamp":   now.Add(-time.Duration(j) * time.Second).Format(time.RFC3339Nano),
				"context":     map[string]any{"region_code": "510104017001", "app": map[string]any{"name": "市民云"}},
				"properties":  map[string]any{"service_id": 1 + j%20},
			}
		}
		body, err := json.Marshal(map[string]any{"batch": evs, "sentAt": now.Format(time.RFC3339Nano)})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = body
	}
	return out
}

// loadServer serves h and posts b.N batches to it, benchConns at a time, on kept-alive
// connections; every answer must be a 200. It reports events/s and the p50/p99 latency.
func loadServer(b *testing.B, h http.Handler, bodies [][]byte) {
	b.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := srv.URL + "/v1/batch"

	var mu sync.Mutex
	var lat []time.Duration
	var failure error
	b.SetParallelism((benchConns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		var err error
		for i := 0; pb.Next(); i++ {
			t0 := time.Now()
			if err == nil {
				err = postBench(cl, url, bodies[i%len(bodies)])
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		if failure == nil {
			failure = err
		}
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != nil {
		b.Fatal(failure)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func postBench(cl *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(devKey, "")
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, answer)
	}
	return nil
}
