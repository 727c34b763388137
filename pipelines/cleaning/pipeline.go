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
	"github.com/citypulse/citypulse/warehouse/standard"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Cleaned)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Quarantined)(nil)).Elem())
	register.DoFn5x0[context.Context, kafkaio.Record, func(Cleaned), func(Cleaned), func(Quarantined)](&cleanFn{})
	register.DoFn2x1[context.Context, Cleaned, error](&writeCleanFn{})
	register.DoFn2x1[context.Context, Cleaned, error](&writeStagedFn{})
	register.DoFn2x1[context.Context, Quarantined, error](&writeQuarantineFn{})
	register.Emitter1[Cleaned]()
	register.Emitter1[Quarantined]()
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
	records := beam.ParDo(s, &kafkaio.ReadFn{Brokers: opt.Brokers}, beam.Create(s, elems...))
	valid, staged, quarantined := beam.ParDo3(s, &cleanFn{Dataset: opt.Dataset, HashKey: opt.HashKey,
		EncryptionKey: opt.EncryptionKey, EncryptionKeyID: opt.EncryptionKeyID}, records)
	beam.ParDo0(s, &writeCleanFn{Dataset: opt.Dataset, Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: spec.Table,
		Columns: spec.ColumnNames(), BatchRows: opt.BatchRows, Namespace: Namespace(opt.Dataset)}}, valid)
	beam.ParDo0(s, &writeStagedFn{Dataset: opt.Dataset, Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: StagedTable,
		Columns: StagedColumns, BatchRows: opt.BatchRows, Namespace: StagedNamespace(opt.Dataset)}}, staged)
	beam.ParDo0(s, &writeQuarantineFn{Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: QuarantineTable,
		Columns: QuarantineColumns, BatchRows: opt.BatchRows, Namespace: QuarantineNamespace(opt.Dataset)}}, quarantined)
	return nil
}

// cleanFn cleans every record: a valid row to load or to stage (by its route), or its
// quarantine rows.
type cleanFn struct {
	Dataset         string
	HashKey         string
	EncryptionKey   string
	EncryptionKeyID string

	c                                     *Cleaner
	read, valid, quarantined, undecodable beam.Counter
	changes, references                   beam.Counter
}

func (f *cleanFn) Setup() error {
	std, err := standard.Load()
	if err != nil {
		return err
	}
	enc, err := ParseEncryptionKey(f.EncryptionKey)
	if err != nil {
		return fmt.Errorf("cleaning %s: encryption key: %w", f.Dataset, err)
	}
	keys := Keys{Hash: []byte(f.HashKey), Encryption: enc, EncryptionID: f.EncryptionKeyID}
	if f.c, err = NewCleaner(std, Specs[f.Dataset], keys); err != nil {
		return err
	}
	ns := Namespace(f.Dataset)
	f.read = beam.NewCounter(ns, CounterRead)
	f.valid = beam.NewCounter(ns, CounterValid)
	f.quarantined = beam.NewCounter(ns, CounterQuarantined)
	f.undecodable = beam.NewCounter(ns, CounterUndecodable)
	f.changes = beam.NewCounter(ns, CounterChanges)
	f.references = beam.NewCounter(ns, CounterReferences)
	return nil
}

func (f *cleanFn) ProcessElement(ctx context.Context, rec kafkaio.Record, emitValid, emitStaged func(Cleaned), emitQ func(Quarantined)) {
	f.read.Inc(ctx, 1)
	row, q := f.c.Clean(rec)
	if row != nil {
		f.valid.Inc(ctx, 1)
		switch row.Route {
		case RouteChange:
			f.changes.Inc(ctx, 1)
			emitStaged(*row)
		case RouteReference:
			f.references.Inc(ctx, 1)
			emitStaged(*row)
		default:
			emitValid(*row)
		}
		return
	}
	f.quarantined.Inc(ctx, 1)
	if len(q) == 1 && q[0].Code == CodeUndecodable {
		f.undecodable.Inc(ctx, 1)
	}
	for _, r := range q {
		emitQ(r)
	}
}

// writeCleanFn writes valid rows to the dataset's dwd_ table through the shared sink.
type writeCleanFn struct {
	Dataset string
	Sink    chsink.Sink

	spec Spec
}

func (f *writeCleanFn) Setup(ctx context.Context) error {
	f.spec = Specs[f.Dataset]
	return f.Sink.Open(ctx)
}

func (f *writeCleanFn) ProcessElement(ctx context.Context, c Cleaned) error {
	vals, err := f.spec.Values(c)
	if err != nil {
		return fmt.Errorf("%s row %s: %w", f.Dataset, c.Get(MetaIdentityKey), err)
	}
	return f.Sink.Write(ctx, vals)
}

func (f *writeCleanFn) FinishBundle(ctx context.Context) error { return f.Sink.Flush(ctx) }

func (f *writeCleanFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }

// writeStagedFn writes valid rows routed to staging to ods_staged_rows through the shared sink.
type writeStagedFn struct {
	Dataset string
	Sink    chsink.Sink

	spec Spec
}

func (f *writeStagedFn) Setup(ctx context.Context) error {
	f.spec = Specs[f.Dataset]
	return f.Sink.Open(ctx)
}

func (f *writeStagedFn) ProcessElement(ctx context.Context, c Cleaned) error {
	st, err := f.spec.Stage(c)
	if err != nil {
		return err
	}
	return f.Sink.Write(ctx, st.Values())
}

func (f *writeStagedFn) FinishBundle(ctx context.Context) error { return f.Sink.Flush(ctx) }

func (f *writeStagedFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }

// writeQuarantineFn writes quarantine rows through the shared sink.
type writeQuarantineFn struct {
	Sink chsink.Sink
}

func (f *writeQuarantineFn) Setup(ctx context.Context) error { return f.Sink.Open(ctx) }

func (f *writeQuarantineFn) ProcessElement(ctx context.Context, q Quarantined) error {
	return f.Sink.Write(ctx, q.Values(f.Sink.LoadedAt()))
}

func (f *writeQuarantineFn) FinishBundle(ctx context.Context) error { return f.Sink.Flush(ctx) }

func (f *writeQuarantineFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }
