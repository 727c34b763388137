package deadletters

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Row)(nil)).Elem())
	register.DoFn3x0[context.Context, kafkaio.Record, func(Row)](&decodeFn{})
	register.DoFn2x1[context.Context, Row, error](&writeFn{})
	register.Emitter1[Row]()
}

// Table is the table the pipeline writes.
const Table = "ods_bad_events"

// Counter names reported by a run, in namespace Namespace.
const (
	Namespace          = "bad_events"
	CounterRead        = "records_read"
	CounterUndecodable = "undecodable"
	CounterWritten     = "rows_written"
)

// Options configure the pipeline's DoFns. They are serialised into the pipeline, so they hold
// only plain values.
type Options struct {
	Brokers   []string
	Warehouse warehouse.Config
	// Timezone names the zone of event_date, e.g. "Asia/Shanghai".
	Timezone string
	// BatchRows is the ClickHouse insert batch size.
	BatchRows int
}

// Build adds the bad-events pipeline, reading the given DLQ ranges, to s.
func Build(s beam.Scope, ranges []kafkaio.OffsetRange, opt Options) {
	s = s.Scope("bad_events")
	elems := make([]any, len(ranges))
	for i, r := range ranges {
		elems[i] = r
	}
	records := beam.ParDo(s, &kafkaio.ReadFn{Brokers: opt.Brokers}, beam.Create(s, elems...))
	rows := beam.ParDo(s, &decodeFn{Timezone: opt.Timezone}, records)
	beam.ParDo0(s, &writeFn{Warehouse: opt.Warehouse, Timezone: opt.Timezone, BatchRows: opt.BatchRows}, rows)
}

// decodeFn turns every record into a row (FromRecord never fails).
type decodeFn struct {
	Timezone string

	loc         *time.Location
	read        beam.Counter
	undecodable beam.Counter
}

func (f *decodeFn) Setup() error {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", f.Timezone, err)
	}
	f.loc = loc
	f.read = beam.NewCounter(Namespace, CounterRead)
	f.undecodable = beam.NewCounter(Namespace, CounterUndecodable)
	return nil
}

func (f *decodeFn) ProcessElement(ctx context.Context, rec kafkaio.Record, emit func(Row)) {
	f.read.Inc(ctx, 1)
	r := FromRecord(rec, f.loc)
	if r.Code == CodeUndecodable {
		f.undecodable.Inc(ctx, 1)
	}
	emit(r)
}

// writeFn writes rows to ods_bad_events through a warehouse.BatchWriter: buffered per bundle and
// flushed in FinishBundle, so a bundle succeeds only once ClickHouse has its rows.
type writeFn struct {
	Warehouse warehouse.Config
	Timezone  string
	BatchRows int

	loc     *time.Location
	conn    driver.Conn
	w       *warehouse.BatchWriter
	written beam.Counter
	now     time.Time

	mu      sync.Mutex // guards rejects: OnReject may run on the writer's background flusher
	rejects []error
}

func (f *writeFn) Setup(ctx context.Context) error {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", f.Timezone, err)
	}
	f.loc = loc
	conn, err := warehouse.Open(ctx, f.Warehouse)
	if err != nil {
		return err
	}
	f.conn = conn
	cfg := warehouse.BatchConfig{Table: Table, Columns: Columns, MaxRows: f.BatchRows,
		// Every column is a String, Date, DateTime or UInt32 built here, so the server refusing a
		// row's values is a bug; fail the bundle (nothing is committed) rather than drop the row.
		OnReject: func(rows [][]any, err error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.rejects = append(f.rejects, fmt.Errorf("%d rows refused: %w", len(rows), err))
		}}
	w, err := warehouse.NewBatchWriter(conn, cfg, nil, nil)
	if err != nil {
		return err
	}
	f.w = w
	f.written = beam.NewCounter(Namespace, CounterWritten)
	return nil
}

func (f *writeFn) ProcessElement(ctx context.Context, r Row) error {
	if f.now.IsZero() {
		f.now = time.Now() // loaded_at of this bundle's rows
	}
	vals, err := r.Values(f.loc, f.now)
	if err != nil {
		return fmt.Errorf("bad event %s: %w", r.DedupeKey, err)
	}
	if err := f.w.Write(ctx, vals...); err != nil {
		return fmt.Errorf("write %s: %w", Table, err)
	}
	f.written.Inc(ctx, 1)
	return nil
}

func (f *writeFn) FinishBundle(ctx context.Context) error {
	f.now = time.Time{}
	if err := f.w.Flush(ctx); err != nil {
		return fmt.Errorf("flush %s: %w", Table, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rejects) > 0 {
		err := fmt.Errorf("write %s: %w", Table, f.rejects[0])
		f.rejects = nil
		return err
	}
	return nil
}

func (f *writeFn) Teardown(ctx context.Context) error {
	var err error
	if f.w != nil {
		err = f.w.Close(ctx)
	}
	if f.conn != nil {
		if cerr := f.conn.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
