package cleaning

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsink"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Cleaned)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Quarantined)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*rowBatch)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*quarantineBatch)(nil)).Elem())
	register.DoFn5x1[context.Context, kafkaio.OffsetRange, func(rowBatch), func(rowBatch), func(quarantineBatch), error](&cleanRangeFn{})
	register.DoFn3x1[context.Context, rowBatch, func(int, int64), error](&writeCleanFn{})
	register.DoFn3x1[context.Context, rowBatch, func(int, int64), error](&writeStagedFn{})
	register.DoFn3x1[context.Context, quarantineBatch, func(int, int64), error](&writeQuarantineFn{})
	register.Function2x1(sumCounts)
	register.DoFn2x0[int, int64](&discardFn{})
	register.Emitter1[rowBatch]()
	register.Emitter1[quarantineBatch]()
	register.Emitter2[int, int64]()
}

// QuarantineTable is the table of refused records.
const QuarantineTable = "ods_feed_quarantine"

// Counter names reported by a run, in namespace Namespace(dataset); the quarantine sink counts
// its rows_written in QuarantineNamespace(dataset), the staged-rows sink in
// StagedNamespace(dataset). Valid rows are loaded (CounterWritten in Namespace counts the dwd
// rows written) or staged: CounterValid = loaded + CounterChanges + CounterReferences.
const (
	CounterRead        = "records_read"
	CounterValid       = "valid"
	CounterChanges     = "staged_change"
	CounterReferences  = "staged_reference"
	CounterQuarantined = "quarantined"
	CounterUndecodable = "undecodable"
	CounterWritten     = chsink.CounterWritten
)

// Namespace is the Beam counter namespace of a dataset's cleaning run.
func Namespace(dataset string) string { return "clean_" + dataset }

// QuarantineNamespace is the counter namespace of a dataset's quarantine sink.
func QuarantineNamespace(dataset string) string { return "clean_" + dataset + "_quarantine" }

// StagedNamespace is the counter namespace of a dataset's staged-rows sink.
func StagedNamespace(dataset string) string { return "clean_" + dataset + "_staged" }

// Options configure the pipeline's DoFns. They are serialised into the pipeline, so they hold
// only plain values.
type Options struct {
	Brokers   []string
	Warehouse warehouse.Config
	// Dataset names the entry of Specs to clean.
	Dataset string
	// HashKey keys the identity and personal-field hashes (HMAC-SHA256).
	HashKey string
	// EncryptionKey is the AES-256 key of the personal fields' <field>_enc values, as 64 hex
	// digits or base64 (ParseEncryptionKey); EncryptionKeyID names it in every value.
	EncryptionKey   string
	EncryptionKeyID string
	// BatchRows is the ClickHouse insert batch size.
	BatchRows int
}

// Build adds the cleaning pipeline of opt.Dataset, reading the given ranges of its feed topic,
// to s. It fails when the dataset has no Spec.
//
// Shape (one fused stage, then a tiny one): every range is read, cleaned and emitted in batches of
// records (cleanRangeFn: the records of a batch cross the stage's DoFns as one element, and are
// cleaned by as many goroutines as there are cores while the next batch is read); the three sinks
// write their rows and emit their per-bundle row counts to a final stage that sums them (drain),
// so that the first stage has an output (Prism v2.77 busy-waits while a stage without outputs
// runs).
func Build(s beam.Scope, ranges []kafkaio.OffsetRange, opt Options) error {
	spec, ok := Specs[opt.Dataset]
	if !ok {
		return fmt.Errorf("cleaning: no spec for dataset %q", opt.Dataset)
	}
	s = s.Scope("clean_" + opt.Dataset)
	elems := make([]any, len(ranges))
	for i, r := range ranges {
		elems[i] = r
	}
	valid, staged, quarantined := beam.ParDo3(s, &cleanRangeFn{Brokers: opt.Brokers, Dataset: opt.Dataset, HashKey: opt.HashKey,
		EncryptionKey: opt.EncryptionKey, EncryptionKeyID: opt.EncryptionKeyID}, beam.Create(s, elems...))
	n1 := beam.ParDo(s, &writeCleanFn{Dataset: opt.Dataset, Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: spec.Table,
		Columns: spec.ColumnNames(), BatchRows: opt.BatchRows, Namespace: Namespace(opt.Dataset)}}, valid)
	n2 := beam.ParDo(s, &writeStagedFn{Dataset: opt.Dataset, Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: StagedTable,
		Columns: StagedColumns, BatchRows: opt.BatchRows, Namespace: StagedNamespace(opt.Dataset)}}, staged)
	n3 := beam.ParDo(s, &writeQuarantineFn{Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: QuarantineTable,
		Columns: QuarantineColumns, BatchRows: opt.BatchRows, Namespace: QuarantineNamespace(opt.Dataset)}}, quarantined)
	beam.ParDo0(s, &discardFn{}, beam.CombinePerKey(s, sumCounts, beam.Flatten(s, n1, n2, n3)))
	return nil
}

func sumCounts(a, b int64) int64 { return a + b }

// discardFn ends the pipeline at the sinks' row counts (see Build).
type discardFn struct{}

func (*discardFn) ProcessElement(int, int64) {}

// writeCleanFn writes valid rows to the dataset's dwd_ table through the shared sink.
type writeCleanFn struct {
	Dataset string
	Sink    chsink.Sink

	spec Spec
	vals valuer
	rows int64
}

func (f *writeCleanFn) Setup(ctx context.Context) error {
	f.spec = Specs[f.Dataset]
	f.vals = valuer{spec: f.spec}
	return f.Sink.Open(ctx)
}

func (f *writeCleanFn) ProcessElement(ctx context.Context, b rowBatch, _ func(int, int64)) error {
	for i := range b.Rows {
		vals, err := f.vals.values(&b.Rows[i])
		if err != nil {
			return fmt.Errorf("%s row %s: %w", f.Dataset, b.Rows[i].Get(MetaIdentityKey), err)
		}
		if err := f.Sink.Write(ctx, vals); err != nil {
			return err
		}
	}
	f.rows += int64(len(b.Rows))
	return nil
}

func (f *writeCleanFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return flushCount(ctx, &f.Sink, &f.rows, emit)
}

func (f *writeCleanFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }

// flushCount flushes a sink at the end of a bundle and emits the bundle's row count.
func flushCount(ctx context.Context, s *chsink.Sink, rows *int64, emit func(int, int64)) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	emit(0, *rows)
	*rows = 0
	return nil
}

// writeStagedFn writes valid rows routed to staging to ods_staged_rows through the shared sink.
type writeStagedFn struct {
	Dataset string
	Sink    chsink.Sink

	spec Spec
	rows int64
}

func (f *writeStagedFn) Setup(ctx context.Context) error {
	f.spec = Specs[f.Dataset]
	return f.Sink.Open(ctx)
}

func (f *writeStagedFn) ProcessElement(ctx context.Context, b rowBatch, _ func(int, int64)) error {
	for _, c := range b.Rows {
		st, err := f.spec.Stage(c)
		if err != nil {
			return err
		}
		if err := f.Sink.Write(ctx, st.Values()); err != nil {
			return err
		}
	}
	f.rows += int64(len(b.Rows))
	return nil
}

func (f *writeStagedFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return flushCount(ctx, &f.Sink, &f.rows, emit)
}

func (f *writeStagedFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }

// writeQuarantineFn writes quarantine rows through the shared sink.
type writeQuarantineFn struct {
	Sink chsink.Sink

	rows int64
}

func (f *writeQuarantineFn) Setup(ctx context.Context) error { return f.Sink.Open(ctx) }

func (f *writeQuarantineFn) ProcessElement(ctx context.Context, b quarantineBatch, _ func(int, int64)) error {
	for _, q := range b.Rows {
		if err := f.Sink.Write(ctx, q.Values(f.Sink.LoadedAt())); err != nil {
			return err
		}
	}
	f.rows += int64(len(b.Rows))
	return nil
}

func (f *writeQuarantineFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return flushCount(ctx, &f.Sink, &f.rows, emit)
}

func (f *writeQuarantineFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }
