package feeds

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/formats"
)

// BenchReadAhead runs the gateway's per-row work without the network: body is read (format,
// charset as the request declared it), mapped and encoded by readAhead, again and again until
// b.N rows went through; each row's raw JSON is turned into the string ods_feed_records gets, as
// stream does. One op is one row.
func BenchReadAhead(b *testing.B, format formats.Format, charset string, body []byte, m Manifest, dc DatasetConfig) {
	b.Helper()
	received := time.Date(2026, 3, 5, 1, 2, 3, 456789000, time.UTC)
	b.SetBytes(0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	var sink int
	for rows := 0; rows < b.N; {
		rd, err := formats.Open(format, bytes.NewReader(body), int64(len(body)), formats.Options{Charset: charset})
		if err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		ahead := make(chan []shipRow, 4)
		go readAhead(rd, m, dc, received, stop, ahead)
		for batch := range ahead {
			for _, r := range batch {
				if r.err != nil || r.reject != "" {
					b.Fatalf("row %d: %v %s", r.row, r.err, r.reject)
				}
				raw := string(r.raw)
				sink += len(r.value) + len(r.key) + len(raw)
				rows++
			}
			if rows >= b.N {
				close(stop)
				for range ahead {
				}
				break
			}
		}
		_ = rd.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	if sink == 0 {
		b.Fatal("nothing encoded")
	}
}

// cpuTime is the CPU the process used so far (every goroutine's, the collector's included).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
