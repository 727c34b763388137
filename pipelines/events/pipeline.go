package events

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/pipelines/chsink"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Row)(nil)).Elem())
	register.DoFn4x0[context.Context, kafkaio.Record, func(string, []byte), func(string)](&decodeFn{})
	register.DoFn5x0[context.Context, string, func(*[]byte) bool, func(Row), func(string)](&dedupeFn{})
	register.DoFn3x1[context.Context, Row, func(string, int64), error](&writeFn{})
	register.DoFn3x1[context.Context, string, int64, error](&refreshFn{})
	register.DoFn2x1[context.Context, string, error](&deadLetterFn{})
	register.Emitter2[string, []byte]()
	register.Emitter1[string]()
	register.Emitter1[Row]()
	register.Emitter2[string, int64]()
	register.Iter1[[]byte]()
}

// Counter names reported by a run (namespace "events").
const (
	CounterRead        = "records_read"
	CounterDuplicates  = "duplicates_dropped"
	CounterWritten     = chsink.CounterWritten
	CounterDeadLetters = "dead_letters"
	CounterDays        = "days_refreshed"
)

// Options configure the pipeline's DoFns. They are serialised into the pipeline, so they hold
// only plain values.
type Options struct {
	Brokers   []string
	DLQTopic  string
	Warehouse warehouse.Config
	// Timezone names the zone of event_date, e.g. "Asia/Shanghai".
	Timezone string
	// BatchRows is the ClickHouse insert batch size.
	BatchRows int
}

// Build adds the events pipeline, reading the given ranges, to s.
func Build(s beam.Scope, ranges []kafkaio.OffsetRange, opt Options) {
	s = s.Scope("events")
	records := kafkaio.Read(s, opt.Brokers, ranges)
	byID, undecodable := beam.ParDo2(s, &decodeFn{}, records)
	rows, unusable := beam.ParDo2(s, &dedupeFn{Timezone: opt.Timezone}, beam.GroupByKey(s, byID))
	days := beam.ParDo(s, &writeFn{Timezone: opt.Timezone, Sink: chsink.Sink{
		Warehouse: opt.Warehouse, Table: "dwd_events", Columns: Columns, BatchRows: opt.BatchRows, Namespace: "events"}}, rows)
	beam.ParDo0(s, &refreshFn{Warehouse: opt.Warehouse}, stats.SumPerKey(s, days))
	beam.ParDo0(s, &deadLetterFn{Brokers: opt.Brokers, Topic: opt.DLQTopic}, beam.Flatten(s, undecodable, unusable))
}

// deadLetter encodes a dead-letter record for a raw value that failed in the pipeline.
func deadLetter(reason, field string, e event.Event, raw []byte) string {
	dl := event.DeadLetter{Reason: "pipeline: " + reason, Field: field, Code: "pipeline", MessageID: e.MessageID, Source: e.Source, ReceivedAt: e.ReceivedAt}
	if json.Valid(raw) {
		dl.Raw = raw
	} else {
		dl.Raw, _ = json.Marshal(string(raw)) // a string always marshals
	}
	b, _ := json.Marshal(dl) // plain struct with valid RawMessage: cannot fail
	return string(b)
}

// decodeFn decodes a record into (messageId, value), or a dead letter.
type decodeFn struct {
	read beam.Counter
}

func (f *decodeFn) Setup() { f.read = beam.NewCounter("events", CounterRead) }

func (f *decodeFn) ProcessElement(ctx context.Context, rec kafkaio.Record, emit func(string, []byte), bad func(string)) {
	f.read.Inc(ctx, 1)
	var e event.Event
	if err := event.DecodeRecord(rec.Value, &e); err != nil {
		bad(deadLetter(fmt.Sprintf("undecodable record at %s[%d]@%d: %v", rec.Topic, rec.Partition, rec.Offset, err), "", e, rec.Value))
		return
	}
	if e.MessageID == "" {
		bad(deadLetter(fmt.Sprintf("record at %s[%d]@%d has no messageId", rec.Topic, rec.Partition, rec.Offset), "messageId", e, rec.Value))
		return
	}
	emit(e.MessageID, rec.Value)
}

// dedupeFn keeps one event per message id (the earliest received; ties broken by the encoded
// bytes so the choice is deterministic) and cleans it into a Row.
type dedupeFn struct {
	Timezone string

	loc        *time.Location
	duplicates beam.Counter
}

func (f *dedupeFn) Setup() error {
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", f.Timezone, err)
	}
	f.loc = loc
	f.duplicates = beam.NewCounter("events", CounterDuplicates)
	return nil
}

func (f *dedupeFn) ProcessElement(ctx context.Context, id string, values func(*[]byte) bool, emit func(Row), bad func(string)) {
	var best event.Event
	var bestRaw []byte
	n := 0
	var v []byte
	for values(&v) {
		var e event.Event
		if event.DecodeRecord(v, &e) != nil {
			continue // decodeFn already proved it decodes
		}
		if n == 0 || e.ReceivedAt.Before(best.ReceivedAt) || (e.ReceivedAt.Equal(best.ReceivedAt) && string(v) < string(bestRaw)) {
			best, bestRaw = e, append([]byte(nil), v...)
		}
		n++
	}
	if n > 1 {
		f.duplicates.Inc(ctx, int64(n-1))
	}
	row, err := Clean(best, f.loc)
	if err != nil {
		bad(deadLetter(err.Error(), "", best, bestRaw))
		return
	}
	emit(row)
}

// writeFn writes rows to dwd_events through the shared ClickHouse sink (flushed in FinishBundle,
// so a bundle succeeds only once ClickHouse has its rows). It emits (event_date, 1) per row for
// the daily refresh.
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

func (f *writeFn) ProcessElement(ctx context.Context, r Row, emit func(string, int64)) error {
	vals, err := r.Values(f.loc, f.Sink.LoadedAt())
	if err != nil {
		return fmt.Errorf("row %s: %w", r.MessageID, err)
	}
	if err := f.Sink.Write(ctx, vals); err != nil {
		return err
	}
	emit(r.EventDate, 1)
	return nil
}

// FinishBundle flushes; Beam requires it to declare ProcessElement's emitter, unused here.
func (f *writeFn) FinishBundle(ctx context.Context, _ func(string, int64)) error {
	return f.Sink.Flush(ctx)
}

func (f *writeFn) Teardown(ctx context.Context) error { return f.Sink.Close(ctx) }

// refreshFn recomputes the daily aggregate of each day that received rows.
type refreshFn struct {
	Warehouse warehouse.Config

	conn driver.Conn
	days beam.Counter
}

func (f *refreshFn) Setup(ctx context.Context) error {
	conn, err := warehouse.Open(ctx, f.Warehouse)
	if err != nil {
		return err
	}
	f.conn = conn
	f.days = beam.NewCounter("events", CounterDays)
	return nil
}

func (f *refreshFn) ProcessElement(ctx context.Context, day string, _ int64) error {
	d, err := time.ParseInLocation(time.DateOnly, day, time.UTC)
	if err != nil {
		return fmt.Errorf("refresh day %q: %w", day, err)
	}
	if err := warehouse.RefreshDaily(ctx, f.conn, []time.Time{d}); err != nil {
		return fmt.Errorf("refresh day %s: %w", day, err)
	}
	f.days.Inc(ctx, 1)
	return nil
}

func (f *refreshFn) Teardown() error {
	if f.conn != nil {
		return f.conn.Close()
	}
	return nil
}

// deadLetterFn produces dead letters to the DLQ topic; a bundle succeeds only once Kafka
// acknowledged all of them.
type deadLetterFn struct {
	Brokers []string
	Topic   string

	cl    *kgo.Client
	mu    sync.Mutex
	errs  []error
	count beam.Counter
}

func (f *deadLetterFn) Setup() error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.Brokers...), kgo.DefaultProduceTopic(f.Topic))
	if err != nil {
		return fmt.Errorf("dead-letter producer: %w", err)
	}
	f.cl = cl
	f.count = beam.NewCounter("events", CounterDeadLetters)
	return nil
}

func (f *deadLetterFn) ProcessElement(ctx context.Context, msg string) error {
	f.cl.Produce(ctx, &kgo.Record{Value: []byte(msg)}, func(_ *kgo.Record, err error) {
		if err != nil {
			f.mu.Lock()
			f.errs = append(f.errs, err)
			f.mu.Unlock()
		}
	})
	f.count.Inc(ctx, 1)
	return nil
}

func (f *deadLetterFn) FinishBundle(ctx context.Context) error {
	if err := f.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush dead letters: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := fmt.Errorf("produce %d dead letters to %s: %w", len(f.errs), f.Topic, f.errs[0])
		f.errs = nil
		return err
	}
	return nil
}

func (f *deadLetterFn) Teardown() {
	if f.cl != nil {
		f.cl.Close()
	}
}
