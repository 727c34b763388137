package minute

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/pipelines/events"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	register.DoFn3x1[context.Context, kafkaio.Message, func(string, int64), error](&writeFn{})
	register.Emitter2[string, int64]()
	register.Function2x0(discard)
	register.Iter1[int64]()
}

// Namespace is the Beam counter namespace of the pipeline.
const Namespace = "minute"

// Counter names (namespace Namespace).
const (
	// CounterRead counts records read.
	CounterRead = "records_read"
	// CounterSkipped counts records that are no usable event (undecodable, no identity, unknown
	// type…); the events pipeline dead-letters them, this one only skips them.
	CounterSkipped = "records_skipped"
	// CounterDuplicates counts events already stored (a client's resend, or a re-read).
	CounterDuplicates = "duplicates_dropped"
	// CounterWritten counts events added to dwd_minute_events (and so to the metrics).
	CounterWritten = "events_written"
	// CounterNewUsers counts users seen for the first time.
	CounterNewUsers = "new_users"
)

// Options configure the pipeline's sink. They are serialised into the pipeline: plain values only.
type Options struct {
	Warehouse warehouse.Config
	// Brokers and Group: when Group is set, the sink commits the group's offsets of what it has
	// written after every bundle (streaming). Empty: the caller commits (micro-batches).
	Brokers []string
	Group   string
}

// Build adds the minute pipeline over msgs, a PCollection of kafkaio.Message from
// citypulse.events.v1, to s.
func Build(s beam.Scope, msgs beam.PCollection, opt Options) {
	s = s.Scope("minute")
	out := beam.ParDo(s, &writeFn{Warehouse: opt.Warehouse, Brokers: opt.Brokers, Group: opt.Group}, msgs)
	// The sink emits nothing, but its stage must have an output that leaves it: Prism busy-waits
	// through every bundle of a stage without outputs (worker.B.Init closes DataWait at once),
	// which cost 60% of a core while the job sat idle. A GroupByKey cannot fuse with the sink.
	beam.ParDo0(s, discard, beam.GroupByKey(s, beam.WindowInto(s, window.NewFixedWindows(time.Hour), out)))
}

// discard is the end of the sink's empty output.
func discard(string, func(*int64) bool) {}

// BuildStream adds the streaming minute pipeline to s: an unbounded read of ranges (from
// kafkaio.StreamStarts for opt.Group) that commits opt.Group's offsets as it writes.
func BuildStream(s beam.Scope, ranges []kafkaio.OffsetRange, src kafkaio.StreamOptions, opt Options) {
	if len(src.Brokers) == 0 {
		src.Brokers = opt.Brokers
	}
	Build(s, kafkaio.ReadStream(s, src, ranges), opt)
}

// BuildRanges adds one bounded micro-batch of the minute pipeline over ranges (from
// kafkaio.PlanRanges) to s. opt.Group should be empty: the caller commits the ranges after the
// run, as the Runner does.
func BuildRanges(s beam.Scope, ranges []kafkaio.OffsetRange, opt Options) {
	Build(s, kafkaio.AsMessages(s, kafkaio.Read(s, opt.Brokers, ranges)), opt)
}

// writeFn collects a bundle's events and, at its end, writes the new ones to dwd_minute_events
// (the views add them to the metrics), updates first-seen users, and then reports the bundle's
// offsets as done: streaming, through the job's background writer (writer.go), else itself. A
// write that keeps failing fails a bundle, so nothing of it is committed.
type writeFn struct {
	Warehouse warehouse.Config
	Brokers   []string
	Group     string

	conn    driver.Conn
	st      *store
	stop    chan struct{}
	stopped chan struct{}
	log     *slog.Logger
	prog    kafkaio.Progress
	rows    []detailRow
	// w is the shared background writer when the sink commits (streaming, Group set); without
	// a group the sink writes in FinishBundle, since its caller commits once the job is done.
	w       *sinkWriter
	release sync.Once

	read, skipped, duplicates, written, newUsers beam.Counter
}

func (f *writeFn) Setup(ctx context.Context) error {
	f.log = slog.Default().With("component", "minute")
	f.read = beam.NewCounter(Namespace, CounterRead)
	f.skipped = beam.NewCounter(Namespace, CounterSkipped)
	f.duplicates = beam.NewCounter(Namespace, CounterDuplicates)
	f.written = beam.NewCounter(Namespace, CounterWritten)
	f.newUsers = beam.NewCounter(Namespace, CounterNewUsers)
	if f.Group != "" {
		w, err := acquireWriter(ctx, Options{Warehouse: f.Warehouse, Brokers: f.Brokers, Group: f.Group}, f.log)
		if err != nil {
			return err
		}
		f.w = w
		// A cancelled job's worker may go away without Teardown: let go of the writer when the
		// worker's context ends as well.
		context.AfterFunc(ctx, f.releaseWriter)
		return nil
	}
	conn, st, err := openStore(ctx, f.Warehouse)
	if err != nil {
		return err
	}
	f.conn, f.st = conn, st
	// A cancelled job's worker may go away without Teardown: release the connections when the
	// worker's context ends as well.
	f.stop, f.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.stopped)
		select {
		case <-ctx.Done():
		case <-f.stop:
		}
		_ = f.conn.Close()
	}()
	return nil
}

// ProcessElement collects m; the emitter is the sink's (unused) output, see Build.
func (f *writeFn) ProcessElement(ctx context.Context, m kafkaio.Message, _ func(string, int64)) error {
	f.read.Inc(ctx, 1)
	f.prog.Add(m)
	var e event.Event
	if err := event.DecodeRecord(m.Record.Value, &e); err != nil {
		f.skipped.Inc(ctx, 1)
		return nil
	}
	row, err := events.Clean(e, time.UTC)
	if err != nil {
		f.skipped.Inc(ctx, 1)
		return nil
	}
	f.rows = append(f.rows, fromEventRow(row))
	if f.w != nil && len(f.rows)%4096 == 0 {
		return f.w.waitRoom(ctx) // back pressure here, not in FinishBundle (see writer.go)
	}
	return nil
}

func (f *writeFn) FinishBundle(ctx context.Context, _ func(string, int64)) error {
	rows := f.rows
	f.rows = nil
	if f.w != nil {
		err := f.w.submit(rows, f.prog.Take())
		written, duplicates, newUsers := f.w.counts()
		f.written.Inc(ctx, written)
		f.duplicates.Inc(ctx, duplicates)
		f.newUsers.Inc(ctx, newUsers)
		return err
	}
	n, added, err := f.st.write(ctx, rows)
	if err != nil {
		return err
	}
	f.written.Inc(ctx, int64(n))
	f.duplicates.Inc(ctx, int64(len(rows)-n))
	f.newUsers.Inc(ctx, int64(added))
	f.prog.Take() // the caller commits
	return nil
}

func (f *writeFn) releaseWriter() {
	f.release.Do(func() { f.w.release() })
}

func (f *writeFn) Teardown() {
	if f.w != nil {
		f.releaseWriter()
	}
	if f.stop != nil {
		close(f.stop)
		<-f.stopped
		f.stop = nil
	}
}
