package warehouse_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

// benchShape is a table and the rows its callers write, built the way those callers build them.
type benchShape struct {
	name    string
	ddl     string // %s is the table; empty: the table comes from the migrations
	table   string
	columns []string
	maxRows int
	// row returns row i as its caller passes it: a fresh []any (the cleaning sink's valuer makes
	// one per row), or the values of a variadic call (the feeds gateway).
	row func(i int) []any
}

// personShape is dwd_person-like: 40 columns, mostly String, with Date given as string and as
// time.Time, DateTime, Nullable columns with nil pointers, UInt8/UInt64 and Array(String), as
// pipelines/cleaning's convert produces them. Values come from a pool, so building a row costs
// the caller's make and copy only.
func personShape() benchShape {
	var cols, defs []string
	add := func(name, typ string) {
		cols = append(cols, name)
		defs = append(defs, name+" "+typ)
	}
	for i := range 29 {
		add(fmt.Sprintf("s%02d", i), "String")
	}
	add("birth_date", "Date")                  // string "2006-01-02"
	add("move_in_date", "Date")                // time.Time
	add("received_at", "DateTime")             // time.Time
	add("registered_at", "Nullable(DateTime)") // *time.Time, nil every 3rd row
	add("moved_out", "Nullable(String)")       // *string, nil every 2nd row
	add("children", "Nullable(Int64)")         // *int64
	add("score", "Nullable(Float64)")          // *float64
	add("is_householder", "UInt8")             // uint8
	add("row_no", "UInt64")                    // uint64
	add("quality_flags", "Array(String)")      // []string
	add("version", "UInt64")

	const pool = 1024
	base := time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC)
	vals := make([][]any, pool)
	for p := range pool {
		r := make([]any, 0, len(cols))
		for i := range 29 {
			r = append(r, fmt.Sprintf("v%02d-%06d-%s", i, p, strings.Repeat("x", p%20)))
		}
		r = append(r, fmt.Sprintf("19%02d-%02d-%02d", 50+p%50, 1+p%12, 1+p%28))
		r = append(r, base.AddDate(0, 0, -p).Truncate(24*time.Hour))
		r = append(r, base.Add(time.Duration(p)*time.Second))
		if p%3 == 0 {
			r = append(r, (*time.Time)(nil))
		} else {
			t := base.Add(-time.Duration(p) * time.Hour)
			r = append(r, &t)
		}
		if p%2 == 0 {
			r = append(r, (*string)(nil))
		} else {
			s := fmt.Sprintf("2020-%02d-01", 1+p%12)
			r = append(r, &s)
		}
		n, f := int64(p%4), float64(p)/7
		r = append(r, &n, &f, uint8(p%2), uint64(p), []string{"dirty_fixed", "code_mapped"}, uint64(1_700_000_000_000+p))
		vals[p] = r
	}
	return benchShape{
		name:    "person",
		ddl:     "CREATE TABLE %s (" + strings.Join(defs, ", ") + ") ENGINE = MergeTree ORDER BY s00",
		table:   "bench_person",
		columns: cols,
		maxRows: 50_000,
		row: func(i int) []any {
			src := vals[i%pool]
			r := make([]any, len(src))
			copy(r, src)
			return r
		},
	}
}

// feedShape is ods_feed_records as ingest/feeds writes it: a variadic call whose values are
// boxed at the call, one of them a ~600-byte raw record.
func feedShape() benchShape {
	const pool = 1024
	raws := make([][]byte, pool)
	for p := range pool {
		raws[p] = []byte(fmt.Sprintf(`{"id_card":"51010419900101%04d","name":"name %d","address":"%s"}`, p, p, strings.Repeat("街道", 90+p%20)))
	}
	received := time.Date(2024, 5, 1, 8, 30, 15, 0, time.UTC)
	day := time.Date(received.Year(), received.Month(), received.Day(), 0, 0, 0, 0, time.UTC)
	batchID, source, dataset := "batch-0001", "gongan", "person"
	return benchShape{
		name:    "feed",
		table:   "ods_feed_records",
		columns: []string{"received_date", "received_at", "batch_id", "source", "dataset", "row_no", "raw"},
		maxRows: 10_000,
		row: func(i int) []any {
			return []any{day, received.Truncate(time.Second), batchID, source, dataset, uint64(i), string(raws[i%pool])}
		},
	}
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBatchWriter writes b.N rows through a BatchWriter into the real ClickHouse and flushes.
// It reports rows/s and this process's CPU per row (cpu-ns/row: the client's cost, the server's
// not included). Use a fixed count, e.g. -benchtime=300000x, so each run gets one database:
//
//	CITYPULSE_TEST_CLICKHOUSE_ADDR=127.0.0.1:19000 go test ./warehouse/ -run '^$' \
//	    -bench BatchWriter -benchtime 300000x -count 6
func BenchmarkBatchWriter(b *testing.B) {
	for _, shape := range []benchShape{personShape(), feedShape()} {
		b.Run(shape.name, func(b *testing.B) {
			benchWriter(b, shape, func(ctx context.Context, w *warehouse.BatchWriter, row []any) error {
				return w.Write(ctx, row...)
			})
		})
		b.Run(shape.name+"-owned", func(b *testing.B) {
			benchWriter(b, shape, func(ctx context.Context, w *warehouse.BatchWriter, row []any) error {
				return w.WriteOwned(ctx, row)
			})
		})
	}
}

func benchWriter(b *testing.B, shape benchShape, write func(context.Context, *warehouse.BatchWriter, []any) error) {
	_, conn := testenv.Warehouse(b)
	if shape.ddl != "" {
		if err := conn.Exec(context.Background(), fmt.Sprintf(shape.ddl, shape.table)); err != nil {
			b.Fatal(err)
		}
	}
	w, err := warehouse.NewBatchWriter(conn, warehouse.BatchConfig{Table: shape.table, Columns: shape.columns,
		MaxRows: shape.maxRows, MaxDelay: time.Hour}, nil, slog.Default())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, t0 := cpuTime(b), time.Now()
	for i := range b.N {
		if err := write(ctx, w, shape.row(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	cpu, took := cpuTime(b)-cpu0, time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/row")
	checkCount(b, conn, shape.table, b.N)
}

func checkCount(b *testing.B, conn driver.Conn, table string, n int) {
	var count uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&count); err != nil {
		b.Fatal(err)
	}
	if count != uint64(n) {
		b.Fatalf("%s holds %d rows, want %d", table, count, n)
	}
}
