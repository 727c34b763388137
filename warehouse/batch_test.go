package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

const batchTableDDL = "CREATE TABLE %s (id UInt32, name String, at DateTime) ENGINE = MergeTree ORDER BY id"

var batchColumns = []string{"id", "name", "at"}

var batchTime = time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC)

func newWriter(t *testing.T, conn driver.Conn, cfg warehouse.BatchConfig, reg *prometheus.Registry) *warehouse.BatchWriter {
	t.Helper()
	if cfg.Columns == nil {
		cfg.Columns = batchColumns
	}
	var m *warehouse.Metrics // nil: no metrics
	if reg != nil {
		m = warehouse.NewMetrics(reg)
	}
	w, err := warehouse.NewBatchWriter(conn, cfg, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

func writeRows(t *testing.T, w *warehouse.BatchWriter, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.Write(context.Background(), uint32(i), fmt.Sprintf("row-%d", i), batchTime.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("write row %d: %v", i, err)
		}
	}
}

// checkRows checks that table holds ids [0, n) exactly once each with their values.
func checkRows(t *testing.T, conn driver.Conn, table string, n int) {
	t.Helper()
	var count, distinct, sum uint64
	err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(id), sum(id) FROM "+table).Scan(&count, &distinct, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if count != uint64(n) || distinct != uint64(n) || sum != uint64(n*(n-1)/2) {
		t.Fatalf("%s: count %d, distinct %d, sum %d; want %d rows 0..%d once each", table, count, distinct, sum, n, n-1)
	}
	last := n - 1
	var name string
	var at time.Time
	if err := conn.QueryRow(context.Background(), "SELECT name, at FROM "+table+" WHERE id = ?", last).Scan(&name, &at); err != nil {
		t.Fatal(err)
	}
	if wantAt := batchTime.Add(time.Duration(last) * time.Second); name != fmt.Sprintf("row-%d", last) || !at.Equal(wantAt) {
		t.Fatalf("row %d = %q %s, want row-%d %s", last, name, at, last, wantAt)
	}
}

func TestBatchWriterFlushesBySize(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "by_size"))
	reg := prometheus.NewRegistry()
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "by_size", MaxRows: 100, MaxDelay: time.Hour}, reg)

	writeRows(t, w, 0, 250)
	waitFor(t, "two full batches", func() bool { return queryUint(t, conn, "SELECT count() FROM by_size") == 200 })
	if n := w.Buffered(); n != 50 {
		t.Fatalf("buffered %d rows after two full batches, want 50", n)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "by_size", 250)
	for name, want := range map[string]float64{
		"citypulse_warehouse_rows_written_total":   250,
		"citypulse_warehouse_batches_total":        3,
		"citypulse_warehouse_flush_seconds":        3,
		"citypulse_warehouse_buffered_rows":        0,
		"citypulse_warehouse_insert_retries_total": 0,
	} {
		if got := metricValue(t, reg, name, "by_size"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if err := w.Write(context.Background(), uint32(1), "late", batchTime); !errors.Is(err, warehouse.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestBatchWriterFlushesByTime(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "by_time"))
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "by_time", MaxDelay: 50 * time.Millisecond}, nil)

	writeRows(t, w, 0, 10)
	waitFor(t, "the delayed flush", func() bool { return queryUint(t, conn, "SELECT count() FROM by_time") == 10 })
	checkRows(t, conn, "by_time", 10)
	if n := w.Buffered(); n != 0 {
		t.Fatalf("buffered %d rows after the delayed flush, want 0", n)
	}
}

// TestBatchWriterRetries makes a real transient failure: the table does not exist until the
// writer has failed once.
func TestBatchWriterRetries(t *testing.T) {
	cfg, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	table := cfg.Database + ".late_table" // database.table form
	w := newWriter(t, conn, warehouse.BatchConfig{Table: table, MaxDelay: time.Hour, MaxRetries: 1000,
		Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, reg)
	writeRows(t, w, 0, 20)

	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush(context.Background()) }()
	waitFor(t, "a failed insert", func() bool {
		return metricValue(t, reg, "citypulse_warehouse_insert_retries_total", table) >= 1
	})
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, warehouse.QuoteIdent(cfg.Database)+".late_table"))
	if err := <-flushed; err != nil {
		t.Fatalf("Flush = %v, want success once the table exists", err)
	}
	checkRows(t, conn, "late_table", 20)
	if got := metricValue(t, reg, "citypulse_warehouse_rows_written_total", table); got != 20 {
		t.Errorf("rows written = %v, want 20", got)
	}
	if got := metricValue(t, reg, "citypulse_warehouse_flush_failures_total", table); got != 0 {
		t.Errorf("failures = %v, want 0", got)
	}
}

// TestBatchWriterKeepsRowsAfterGivingUp: a flush that runs out of retries returns the error and
// keeps its rows for the next one.
func TestBatchWriterKeepsRowsAfterGivingUp(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "missing", MaxRows: 10, MaxDelay: time.Hour,
		MaxRetries: 1, Backoff: time.Millisecond}, reg)
	writeRows(t, w, 0, 10) // full: the background flush fails too, keeping the rows

	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("Flush to a missing table succeeded")
	}
	if n := w.Buffered(); n != 10 {
		t.Fatalf("buffered %d rows after the failed flush, want all 10", n)
	}
	if got := metricValue(t, reg, "citypulse_warehouse_flush_failures_total", "missing"); got < 1 {
		t.Errorf("failures = %v, want at least 1", got)
	}
	// The buffer is full: a Write must try to flush, fail, and not take the row.
	if err := w.Write(context.Background(), uint32(10), "row-10", batchTime); err == nil {
		t.Fatal("Write into a full buffer with the table missing succeeded")
	}
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "missing"))
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "missing", 10)
}

func TestBatchWriterRejectsBadRows(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "rejects"))
	var mu sync.Mutex
	var rejected [][]any
	var rejectErr error
	reg := prometheus.NewRegistry()
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "rejects", MaxDelay: time.Hour,
		OnReject: func(rows [][]any, err error) {
			mu.Lock()
			defer mu.Unlock()
			rejected, rejectErr = append(rejected, rows...), err
		}}, reg)
	writeRows(t, w, 0, 3)
	if err := w.Write(context.Background(), "not a number", "bad-1", batchTime); err != nil {
		t.Fatal(err)
	}
	writeRows(t, w, 3, 5)
	if err := w.Write(context.Background(), uint32(99), struct{}{}, batchTime); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), uint32(1), "too few"); err == nil {
		t.Error("Write with 2 values for 3 columns succeeded")
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "rejects", 5)
	mu.Lock()
	defer mu.Unlock()
	if len(rejected) != 2 || rejected[0][1] != "bad-1" || rejected[1][0] != uint32(99) || !errors.Is(rejectErr, warehouse.ErrRowRejected) {
		t.Fatalf("rejected %v (%v), want the two bad rows and ErrRowRejected", rejected, rejectErr)
	}
	if got := metricValue(t, reg, "citypulse_warehouse_rows_rejected_total", "rejects"); got != 2 {
		t.Errorf("rejected metric = %v, want 2", got)
	}
}

func TestBatchWriterConcurrent(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "concurrent"))
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "concurrent", MaxRows: 300, MaxDelay: 20 * time.Millisecond}, nil)
	const writers, each = 4, 1000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() { writeRows(t, w, g*each, (g+1)*each) })
	}
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "concurrent", writers*each)
}

func TestNewBatchWriterRejectsBadConfig(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	for _, cfg := range []warehouse.BatchConfig{
		{Table: "", Columns: batchColumns},
		{Table: "db.", Columns: batchColumns},
		{Table: "t"},
		{Table: "t", Columns: []string{"a", ""}},
	} {
		if w, err := warehouse.NewBatchWriter(conn, cfg, nil, nil); err == nil {
			_ = w.Close(context.Background())
			t.Errorf("NewBatchWriter(%+v) succeeded", cfg)
		}
	}
}
