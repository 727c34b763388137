package kafkaio

// Streaming reads (this file, stream_tracker.go and stream_commit.go). ReadStream is an
// unbounded source for true streaming jobs, tested on Prism: one restriction per partition,
// [committed offset, ∞), read by a splittable DoFn that checkpoints itself every few hundred
// milliseconds and keeps an event-time watermark with a bounded out-of-orderness. It never
// commits: the sink reports what it has durably written (Progress) to a Committer, which commits
// the group's offsets up to the first gap. Delivery is therefore at least once: after a crash the
// job restarts at the committed offsets (StreamStarts) and re-reads what was written but not
// committed yet, so a sink that ignores what it already has (idempotent by message id) makes the
// result exactly once in effect.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Message)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*streamFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*eventTimeEstimator)(nil)).Elem())
	register.DoFn5x2[context.Context, *eventTimeEstimator, *sdf.LockRTracker, OffsetRange, func(beam.EventTime, Message), sdf.ProcessContinuation, error](&streamFn{})
	register.Emitter2[beam.EventTime, Message]()
	register.DoFn2x0[Record, func(Message)](&asMessageFn{})
	register.Emitter1[Message]()
}

// Unbounded is the End of an OffsetRange that never ends: ReadStream reads it until the
// pipeline stops.
const Unbounded = math.MaxInt64

// Message is a record read from Kafka together with the offsets it accounts for: [From,
// Record.Offset]. The messages of one partition, in order, cover every offset from the
// restriction's start without gaps (offsets with no record, such as transaction markers or
// compacted records, fall into the next message's span), so a sink that has durably handled every
// message of a partition up to m may commit m.Record.Offset+1 (see Progress and Committer).
type Message struct {
	Record Record
	From   int64
}

// StreamOptions configure ReadStream. Zero durations mean the defaults.
type StreamOptions struct {
	Brokers []string
	// Checkpoint is how long one call reads a partition before it hands the rest back to the
	// runner (a self-checkpoint), so other partitions get their turn and downstream bundles finish;
	// default 100 ms. It bounds the latency the source adds.
	Checkpoint time.Duration
	// Idle is when a caught-up partition is polled again; default 50 ms.
	Idle time.Duration
	// PollWait is how long one poll waits for records before the partition counts as caught up;
	// default 20 ms.
	PollWait time.Duration
	// OutOfOrder is the bounded out-of-orderness of record timestamps: the watermark trails the
	// newest timestamp read by this much, and a caught-up partition moves it to now − OutOfOrder;
	// default 5 s.
	OutOfOrder time.Duration
	// ErrorBackoff is the pause after a Kafka error before the partition is read again (the job
	// never fails on a Kafka error); default 1 s.
	ErrorBackoff time.Duration
	// MaxPollRecords caps the records one poll takes; default 10,000.
	MaxPollRecords int
}

func (o StreamOptions) withDefaults() StreamOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Checkpoint, 100*time.Millisecond)
	def(&o.Idle, 50*time.Millisecond)
	def(&o.PollWait, 20*time.Millisecond)
	def(&o.OutOfOrder, 5*time.Second)
	def(&o.ErrorBackoff, time.Second)
	if o.MaxPollRecords <= 0 {
		o.MaxPollRecords = 10_000
	}
	return o
}

// StreamStarts returns one unbounded range per partition of topic, starting at the group's
// committed offset, or at the log start when nothing is committed or the committed offset is no
// longer in the log. It is what ReadStream needs, computed by the driver before every (re)start.
func StreamStarts(ctx context.Context, adm *kadm.Client, group, topic string) ([]OffsetRange, error) {
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	var out []OffsetRange
	starts.Each(func(s kadm.ListedOffset) {
		at := s.Offset
		if c, ok := committed.Lookup(topic, s.Partition); ok && c.Err == nil && c.At > at {
			at = c.At
		}
		out = append(out, OffsetRange{Topic: topic, Partition: s.Partition, Start: at, End: Unbounded})
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions", topic)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out, nil
}

// ReadStream adds an unbounded read of the ranges (from StreamStarts) to s: a splittable DoFn
// with one restriction per partition that polls franz-go, claims every record's offset, emits
// Messages stamped with the record timestamp, and checkpoints itself every opt.Checkpoint. Kafka
// errors are logged and retried after opt.ErrorBackoff; they never fail the pipeline. Bounded
// ranges (End < Unbounded) are read to their end, as by Read.
func ReadStream(s beam.Scope, opt StreamOptions, ranges []OffsetRange) beam.PCollection {
	s = s.Scope("kafka.ReadStream")
	elems := make([]any, len(ranges))
	for i, r := range ranges {
		elems[i] = r
	}
	return beam.ParDo(s, &streamFn{Opt: opt.withDefaults()}, beam.Create(s, elems...))
}

// AsMessages turns Records (e.g. from Read) into Messages that account for their own offset
// only, so pipelines written for ReadStream also run on bounded micro-batches.
func AsMessages(s beam.Scope, records beam.PCollection) beam.PCollection {
	return beam.ParDo(s.Scope("kafka.AsMessages"), &asMessageFn{}, records)
}

type asMessageFn struct{}

func (*asMessageFn) ProcessElement(r Record, emit func(Message)) {
	emit(Message{Record: r, From: r.Offset})
}

// streamFn is the splittable DoFn of ReadStream. Its restriction is an offset range of one
// partition; the tracker never accepts dynamic splits (only self-checkpoints), so a partition is
// read by one bundle at a time, in order.
type streamFn struct {
	Opt StreamOptions

	mu      sync.Mutex // guards readers: the worker's end may close them from another goroutine
	readers map[string]*partReader
	stop    chan struct{}
	stopped chan struct{}
	log     *slog.Logger
	read    beam.Counter
	errs    beam.Counter
}

// partReader is a franz-go client positioned at next in one partition.
type partReader struct {
	cl   *kgo.Client
	next int64
	// hwm is the partition's high-water mark as last seen, once known.
	hwm      int64
	hwmKnown bool
}

// Setup prepares the reader cache. A cancelled job's worker may go away without calling
// Teardown: the clients are closed when the worker's context ends as well.
func (f *streamFn) Setup(ctx context.Context) {
	f.readers = map[string]*partReader{}
	f.log = slog.Default().With("component", "kafkaio.ReadStream")
	f.read = beam.NewCounter("kafkaio", "records_read")
	f.errs = beam.NewCounter("kafkaio", "kafka_errors")
	f.stop, f.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.stopped)
		select {
		case <-ctx.Done():
		case <-f.stop:
		}
		f.closeReaders()
	}()
}

func (f *streamFn) Teardown() {
	if f.stop != nil {
		close(f.stop)
		<-f.stopped
		f.stop = nil
	}
}

func (f *streamFn) closeReaders() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, r := range f.readers {
		r.cl.Close()
		delete(f.readers, k)
	}
}

func (f *streamFn) CreateInitialRestriction(r OffsetRange) offsetrange.Restriction {
	return offsetrange.Restriction{Start: r.Start, End: r.End}
}

func (f *streamFn) SplitRestriction(_ OffsetRange, rest offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{rest}
}

// RestrictionSize is the known backlog of a bounded range; an unbounded one reports 1 (its size
// is unknown before it is read).
func (f *streamFn) RestrictionSize(_ OffsetRange, rest offsetrange.Restriction) float64 {
	if rest.End == Unbounded {
		return 1
	}
	return math.Max(0, rest.Size())
}

func (f *streamFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	est := &highWater{}
	est.v.Store(rest.Start)
	gt, _ := offsetrange.NewGrowableTracker(rest, est) // err only for a nil estimator
	return sdf.NewLockRTracker(&partitionTracker{GrowableTracker: gt, hwm: est})
}

// TruncateRestriction ends an unbounded restriction when the pipeline drains.
func (f *streamFn) TruncateRestriction(rt *sdf.LockRTracker, _ OffsetRange) offsetrange.Restriction {
	rest := rt.GetRestriction().(offsetrange.Restriction)
	if rest.End == Unbounded {
		return offsetrange.Restriction{Start: rest.Start, End: rest.Start}
	}
	return rest
}

func (f *streamFn) InitialWatermarkEstimatorState(_ beam.EventTime, _ offsetrange.Restriction, _ OffsetRange) int64 {
	return int64(mtime.MinTimestamp)
}

func (f *streamFn) CreateWatermarkEstimator(state int64) *eventTimeEstimator {
	return &eventTimeEstimator{Watermark: state}
}

func (f *streamFn) WatermarkEstimatorState(e *eventTimeEstimator) int64 { return e.Watermark }

// reader returns a client positioned at start in r's partition, reusing the previous one when it
// stopped exactly there (a client that read past a split point would skip records).
func (f *streamFn) reader(r OffsetRange, start int64) (*partReader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
	if pr, ok := f.readers[key]; ok {
		if pr.next == start {
			return pr, nil
		}
		pr.cl.Close()
		delete(f.readers, key)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(f.Opt.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{r.Topic: {r.Partition: kgo.NewOffset().At(start)}}),
		kgo.FetchMaxPartitionBytes(8<<20),
		kgo.FetchMaxWait(time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", r, err)
	}
	pr := &partReader{cl: cl, next: start}
	f.readers[key] = pr
	return pr, nil
}

func (f *streamFn) drop(r OffsetRange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
	if pr, ok := f.readers[key]; ok {
		pr.cl.Close()
		delete(f.readers, key)
	}
}

// ProcessElement reads r's partition from the restriction's start for up to Opt.Checkpoint.
func (f *streamFn) ProcessElement(ctx context.Context, we *eventTimeEstimator, rt *sdf.LockRTracker, r OffsetRange, emit func(beam.EventTime, Message)) (sdf.ProcessContinuation, error) {
	rest := rt.GetRestriction().(offsetrange.Restriction)
	if rest.Start >= rest.End {
		return sdf.StopProcessing(), nil
	}
	pt := rt.Rt.(*partitionTracker)
	pr, err := f.reader(r, rest.Start)
	if err != nil {
		f.errs.Inc(ctx, 1)
		f.log.Warn("kafka client failed; retrying", "range", r.String(), "err", err)
		return sdf.ResumeProcessingIn(f.Opt.ErrorBackoff), nil
	}
	pt.hwm.raise(pr.hwm)
	deadline := time.Now().Add(f.Opt.Checkpoint)
	for {
		wait := min(f.Opt.PollWait, time.Until(deadline))
		pctx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fetches := pr.cl.PollRecords(pctx, f.Opt.MaxPollRecords)
		cancel()
		if ctx.Err() != nil {
			return sdf.ResumeProcessingIn(0), nil // the bundle is going away; nothing more was claimed
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && ferr == nil {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			f.errs.Inc(ctx, 1)
			f.log.Warn("kafka fetch failed; retrying", "range", r.String(), "offset", pr.next, "err", ferr)
			f.drop(r)
			return sdf.ResumeProcessingIn(f.Opt.ErrorBackoff), nil
		}
		n, newest := 0, int64(math.MinInt64)
		stopped := false
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err == nil {
				pr.hwm, pr.hwmKnown = max(pr.hwm, p.HighWatermark), true
				pt.hwm.raise(p.HighWatermark)
			}
			for _, rec := range p.Records {
				if stopped || rec.Offset < pr.next {
					continue
				}
				if !rt.TryClaim(rec.Offset) {
					stopped = true
					continue
				}
				from := pr.next
				pr.next = rec.Offset + 1
				ts := rec.Timestamp.UnixMilli()
				emit(mtime.FromMilliseconds(ts), Message{From: from, Record: Record{Topic: rec.Topic, Partition: rec.Partition,
					Offset: rec.Offset, Key: rec.Key, Value: rec.Value, TimestampMs: ts}})
				newest = max(newest, ts)
				n++
			}
		})
		if n > 0 {
			f.read.Inc(ctx, int64(n))
			we.advance(newest - f.Opt.OutOfOrder.Milliseconds())
		}
		if stopped {
			// A split or the end of the range: the client may hold records past it.
			f.drop(r)
			if err := rt.GetError(); err != nil {
				return sdf.StopProcessing(), fmt.Errorf("read %s: %w", r, err)
			}
			return sdf.StopProcessing(), nil
		}
		if rest.End != Unbounded && pr.next >= rest.End {
			rt.TryClaim(rest.End) // bounded and done
			return sdf.StopProcessing(), nil
		}
		if n == 0 {
			if !pr.hwmKnown {
				f.learnEnd(ctx, r, pr, pt)
			}
			if pr.hwmKnown && pr.next >= pr.hwm {
				// Caught up: nothing older than now − OutOfOrder is still to come from here.
				we.advance(time.Now().Add(-f.Opt.OutOfOrder).UnixMilli())
				return sdf.ResumeProcessingIn(f.Opt.Idle), nil
			}
		}
		if !time.Now().Before(deadline) {
			return sdf.ResumeProcessingIn(0), nil
		}
	}
}

// learnEnd asks the broker for the partition's end offset, for a reader that has not fetched
// anything yet (an idle partition would otherwise never count as caught up).
func (f *streamFn) learnEnd(ctx context.Context, r OffsetRange, pr *partReader, pt *partitionTracker) {
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ends, err := kadm.NewClient(pr.cl).ListEndOffsets(lctx, r.Topic)
	if err != nil {
		return // the next fetch or call tries again
	}
	if e, ok := ends.Lookup(r.Topic, r.Partition); ok && e.Err == nil {
		pr.hwm, pr.hwmKnown = max(pr.hwm, e.Offset), true
		pt.hwm.raise(e.Offset)
	}
}
