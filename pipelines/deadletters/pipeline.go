package deadletters

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsink"
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
	CounterWritten     = chsink.CounterWritten
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
	records := kafkaio.Read(s, opt.Brokers, ranges)
	rows := beam.ParDo(s, &decodeFn{Timezone: opt.Timezone}, records)
	beam.ParDo0(s, &writeFn{Timezone: opt.Timezone, Sink: chsink.Sink{
		Warehouse: opt.Warehouse, Table: Table, Columns: Columns, BatchRows: opt.BatchRows, Namespace: Namespace}}, rows)
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

// writeFn writes rows to ods_bad_events through the shared ClickHouse sink: flushed in
// FinishBundle, so a bundle succeeds only once ClickHouse has its rows, and a row the server
// refuses fails the bundle (nothing is committed) rather than being dropped.
type writeFn struct {
	Sink     chsink.Sink
	Timezone string

	loc *time.Location
}

func (f *writeFn) Setup(ctx context.Context) error {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", f.Timezone, err)
	}
	f.loc = loc
	return f.Sink.Open(ctx)
}

func (f *writeFn) ProcessElement(ctx context.Context, r Row) error {
	vals, err := r.Values(f.loc, f.Sink.LoadedAt())
	if err != nil {
		return fmt.Errorf("bad event %s: %w", r.DedupeKey, err)
	}
	return f.Sink.Write(ctx, vals)
}

func (f *writeFn) FinishBundle(ctx context.Context) error { return f.Sink.Flush(ctx) }

func (f *writeFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }
