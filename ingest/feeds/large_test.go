package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
	"github.com/citypulse/citypulse/internal/bus"
)

const (
	largeRows = 200_000
	padding   = 300 // bytes of 备注 per row, so the body (~80 MB) dwarfs the heap bound
)

// writeLargeCSV generates the same CSV every time, row by row.
func writeLargeCSV(w io.Writer) error {
	pad := strings.Repeat("x", padding)
	if _, err := io.WriteString(w, "姓名,证件号,备注\n"); err != nil {
		return err
	}
	for i := range largeRows {
		if _, err := fmt.Fprintf(w, "居民%d,5101041990%08d,%s\n", i, i, pad); err != nil {
			return err
		}
	}
	return nil
}

// TestLargeCSVFlatMemory streams a generated 200k-row CSV through io.Pipe into a signed upload
// and checks that the live heap stays far below the body's size while every row reaches Kafka
// and ods_feed_records. It measures memory, not time.
func TestLargeCSVFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large import: skipped with -short")
	}
	e := newEnv(t, func(c *Config) { c.ODSMaxRows = 2000 })
	h := sha256.New()
	size := &countWriter{w: h}
	if err := writeLargeCSV(size); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeLargeCSV(pw)) }()
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/feeds/person/files", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	signature.Sign(req, "shebao", e.secret, sum, time.Now())

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var (
		peak uint64
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() { // the live heap (after a collection), sampled while the upload runs
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}()
	status, m, eb := e.do(req)
	close(stop)
	wg.Wait()
	if status != http.StatusOK || m.RowsAccepted != largeRows || m.RowsRejected != 0 || m.Bytes != size.n {
		t.Fatalf("%d %+v %+v", status, m, eb)
	}
	growth := int64(peak) - int64(base)
	t.Logf("body %d MiB, %d rows; live heap %d MiB before, peak %d MiB (growth %d MiB)",
		size.n>>20, largeRows, base>>20, peak>>20, growth>>20)
	const bound = 32 << 20
	if growth > bound {
		t.Fatalf("live heap grew by %d MiB for a %d MiB body; bound %d MiB", growth>>20, size.n>>20, bound>>20)
	}
	if n := e.count("SELECT count() FROM ods_feed_records WHERE batch_id = ?", m.BatchID); n != largeRows {
		t.Fatalf("%d rows in ods_feed_records", n)
	}
	cl, err := bus.NewClient(e.busCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), bus.FeedsTopic("person"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != largeRows {
		t.Fatalf("%d records on the topic, want %d", total, largeRows)
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
