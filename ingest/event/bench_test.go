package event

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/useragent"
)

// benchBatch is a batch of 50 events like a city app's SDK sends.
func benchBatch() []byte {
	var b strings.Builder
	b.WriteString(`{"sentAt":"2024-05-01T08:29:59.000Z","batch":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","event":"Service Viewed","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d","timestamp":"2024-05-01T08:29:0%d.000Z",`+
			`"properties":{"service_id":%d,"region_code":"510104017001","duration_ms":1234,"source_page":"home"},`+
			`"context":{"app":{"name":"citypulse","version":"3.2.0","build":"120"},"os":{"name":"iOS","version":"17.4.1"},"device":{"type":"mobile","manufacturer":"Apple"},`+
			`"library":{"name":"citypulse-js","version":"1.0.0"},"locale":"zh-CN","region_code":"510104017001","session_id":"s-%d","network":{"wifi":true}}}`,
			i, i, i, i%10, 1+i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkParseBatch measures parsing with and without enrichment; b.SetBytes makes the
// result a throughput. Compare with BenchmarkBaselineUnmarshal, encoding/json decoding the same
// body into maps (what the parser did before it used jsontext).
func BenchmarkParseBatch(b *testing.B) {
	body := benchBatch()
	for _, tc := range []struct {
		name   string
		origin *Origin
	}{{"plain", nil}, {"enriched", &Origin{IP: "203.0.113.0", UserAgent: iphoneMini}}} {
		b.Run(tc.name, func(b *testing.B) {
			r := Request{Now: now, Source: src, Origin: tc.origin}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				evs, _, err := r.ParseBatch(body)
				if err != nil || len(evs) != 50 {
					b.Fatal(err, len(evs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/event")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/50, "cpu-ns/event")
		})
	}
	b.Run("encode", func(b *testing.B) {
		evs, _, _ := Request{Now: now, Source: src, Origin: &Origin{IP: "203.0.113.0"}}.ParseBatch(body)
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for i := range evs {
				buf = evs[i].AppendJSON(buf[:0])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/event")
	})
}

// cpuTime is the process's CPU time so far: on a shared machine, CPU per event is steadier than
// wall time per event.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sdkBatches are n batch bodies of 50 events as scripts/bench-collector.sh sends them (see
// ingest/collector/internal/loadgen): one device per batch, so its events share one context;
// 70% tracks, 20% pages (service_id as a string, which the parser rewrites), 10% screens.
func sdkBatches(n int) [][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	names := []string{"Service Viewed", "Service Searched", "Service Started", "Service Completed", "Notice Opened", "Booking Made"}
	oses := []string{`{"name":"iOS","version":"17.4.1"}`, `{"name":"Android","version":"14"}`, `{"name":"HarmonyOS","version":"4.1"}`}
	out := make([][]byte, n)
	for i := range out {
		user := rnd.IntN(100000)
		region := fmt.Sprintf("5101%02d%03d%03d", 4+rnd.IntN(20), 1+rnd.IntN(30), 1+rnd.IntN(20))
		ctx := fmt.Sprintf(`{"app":{"name":"citypulse","version":"3.%d.0","build":"%d"},"os":%s,"device":{"type":"mobile","manufacturer":"Huawei"},"library":{"name":"citypulse-js","version":"1.0.0"},"locale":"zh-CN","region_code":"%s","session_id":"s-%d-%d","network":{"wifi":true}}`,
			rnd.IntN(5), 100+rnd.IntN(50), oses[rnd.IntN(len(oses))], region, user, rnd.IntN(10))
		var b strings.Builder
		b.WriteString(`{"sentAt":"2024-05-01T08:29:59.731Z","batch":[`)
		for j := range 50 {
			if j > 0 {
				b.WriteByte(',')
			}
			ts := now.Add(-time.Duration(rnd.IntN(60000)) * time.Millisecond).Format(time.RFC3339Nano)
			switch k := rnd.IntN(10); {
			case k < 7:
				fmt.Fprintf(&b, `{"type":"track","event":"%s","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d","timestamp":"%s","properties":{"service_id":%d,"region_code":"%s","duration_ms":%d,"source_page":"home"},"context":%s}`,
					names[rnd.IntN(len(names))], user, user, i, j, ts, 1+rnd.IntN(230), region, rnd.IntN(30000), ctx)
			case k < 9:
				fmt.Fprintf(&b, `{"type":"page","name":"Service Detail","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d","timestamp":"%s","properties":{"path":"/services/%d","title":"办事指南","service_id":"%d"},"context":%s}`,
					user, user, i, j, ts, rnd.IntN(230), 1+rnd.IntN(230), ctx)
			default:
				fmt.Fprintf(&b, `{"type":"screen","name":"Map","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d","timestamp":"%s","context":%s}`,
					user, user, i, j, ts, ctx)
			}
		}
		b.WriteString(`]}`)
		out[i] = []byte(b.String())
	}
	return out
}

// BenchmarkCollectorPath is the collector's per-request work in this package — ParseBatch with
// enrichment, then every event encoded with an Encoder — on the bodies the collector benchmark
// sends, timed against a baseline in the same loop: encoding/json's json.Valid over the same
// body (the cheapest standard-library read of it). Each iteration runs both, so a busy machine
// weighs on both alike; "x-valid" is the ratio of their times.
func BenchmarkCollectorPath(b *testing.B) {
	bodies := sdkBatches(64)
	r := Request{Now: now, Source: src, Origin: &Origin{IP: "203.0.113.0", UserAgent: iphoneMini}, Agents: useragent.NewCache(64)}
	var (
		buf        []byte
		enc        Encoder
		evs        []Event
		base, path time.Duration
		events     int
		size       int
	)
	for _, body := range bodies {
		size += len(body)
	}
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		body := bodies[i%len(bodies)]
		i++
		t0 := time.Now()
		if !json.Valid(body) {
			b.Fatal("invalid body")
		}
		t1 := time.Now()
		var err error
		evs, _, err = r.AppendBatch(evs[:0], body)
		if err != nil || len(evs) != 50 {
			b.Fatal(err, len(evs))
		}
		buf = buf[:0]
		for k := range evs {
			buf = enc.Append(buf, &evs[k])
		}
		path += time.Since(t1)
		base += t1.Sub(t0)
		events += len(evs)
	}
	b.ReportMetric(float64(path.Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(base.Nanoseconds())/float64(events), "valid-ns/event")
	b.ReportMetric(float64(path)/float64(base), "x-valid")
}
