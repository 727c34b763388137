package event

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
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
