package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*OffsetRange)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Record)(nil)).Elem())
	register.DoFn3x1[context.Context, OffsetRange, func(Record), error](&ReadFn{})
	register.Emitter1[Record]()
}

// OffsetRange is the half-open range [Start, End) of one partition.
type OffsetRange struct {
	Topic     string
	Partition int32
	Start     int64
	End       int64
}

// Len is the number of offsets in the range.
func (r OffsetRange) Len() int64 { return r.End - r.Start }

func (r OffsetRange) String() string {
	return fmt.Sprintf("%s[%d]@%d..%d", r.Topic, r.Partition, r.Start, r.End)
}

// Record is one Kafka record as read by ReadFn.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	// TimestampMs is the record's timestamp in Unix milliseconds.
	TimestampMs int64
}

// PlanRanges returns, for every partition of topic with unread records, the ranges from the
// group's committed offset (or the log start when nothing is committed, or when the committed
// offset was deleted by retention) to the partition's high-water mark, cut into ranges of at most
// maxPerRange offsets (no limit when ≤ 0). Partitions are returned in order.
func PlanRanges(ctx context.Context, adm *kadm.Client, group, topic string, maxPerRange int64) ([]OffsetRange, error) {
	committed, err := fetchOffsets(ctx, adm, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	if err := starts.Error(); err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	var out []OffsetRange
	ends.Each(func(e kadm.ListedOffset) {
		start := int64(0)
		if s, ok := starts.Lookup(topic, e.Partition); ok {
			start = s.Offset
		}
		if c, ok := committed.Lookup(topic, e.Partition); ok && c.Err == nil && c.At > start {
			start = c.At
		}
		for start < e.Offset {
			end := e.Offset
			if maxPerRange > 0 && end-start > maxPerRange {
				end = start + maxPerRange
			}
			out = append(out, OffsetRange{Topic: topic, Partition: e.Partition, Start: start, End: end})
			start = end
		}
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Start < out[j].Start
	})
	return out, nil
}

// fetchOffsets is adm.FetchOffsets, retried while the broker answers with a retriable error
// (a freshly started Kafka answers COORDINATOR_NOT_AVAILABLE until its offsets topic exists),
// for up to coordinatorWait.
func fetchOffsets(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	deadline := time.Now().Add(coordinatorWait)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil || !kerr.IsRetriable(err) || time.Now().Add(wait).After(deadline) {
			return committed, err
		}
		select {
		case <-ctx.Done():
			return committed, err
		case <-time.After(wait):
		}
	}
}

// coordinatorWait bounds how long PlanRanges waits for a group coordinator.
const coordinatorWait = 30 * time.Second

// Commit commits, per partition, the largest End of ranges for the group.
func Commit(ctx context.Context, adm *kadm.Client, group string, ranges []OffsetRange) error {
	offs := make(kadm.Offsets)
	for _, r := range ranges {
		if cur, ok := offs.Lookup(r.Topic, r.Partition); ok && cur.At >= r.End {
			continue
		}
		offs.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.End, LeaderEpoch: -1})
	}
	if len(offs) == 0 {
		return nil
	}
	if err := adm.CommitAllOffsets(ctx, group, offs); err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", group, err)
	}
	return nil
}

// Read adds a bounded read of the ranges to s: one element per range, each read whole by ReadFn.
func Read(s beam.Scope, brokers []string, ranges []OffsetRange) beam.PCollection {
	s = s.Scope("kafka.Read")
	elems := make([]any, len(ranges))
	for i, r := range ranges {
		elems[i] = r
	}
	return beam.ParDo(s, &ReadFn{Brokers: brokers}, beam.Create(s, elems...))
}

// ReadFn reads every record of an OffsetRange. A range whose records cannot all be read within
// IdleTimeout of the last progress fails the bundle (and so the run; nothing is committed).
type ReadFn struct {
	Brokers []string
	// IdleTimeout bounds the wait for the next record; zero means 30 s.
	IdleTimeout time.Duration
}

// ProcessElement reads r and emits its records in offset order.
func (f *ReadFn) ProcessElement(ctx context.Context, r OffsetRange, emit func(Record)) error {
	if r.Len() <= 0 {
		return nil
	}
	idle := f.IdleTimeout
	if idle <= 0 {
		idle = 30 * time.Second
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(f.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{r.Topic: {r.Partition: kgo.NewOffset().At(r.Start)}}),
		kgo.FetchMaxPartitionBytes(8<<20),
	)
	if err != nil {
		return fmt.Errorf("read %s: kafka client: %w", r, err)
	}
	defer cl.Close()
	next := r.Start
	for next < r.End {
		pctx, cancel := context.WithTimeout(ctx, idle)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("read %s at offset %d: %w", r, next, ctx.Err())
		}
		progressed := false
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return fmt.Errorf("read %s at offset %d: %w", r, next, ferr)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			if rec.Offset < next || rec.Offset >= r.End {
				return
			}
			emit(Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key, Value: rec.Value, TimestampMs: rec.Timestamp.UnixMilli()})
			next = rec.Offset + 1
			progressed = true
		})
		if !progressed && next < r.End {
			// Gaps (e.g. transaction markers) end the range at the high-water mark.
			hw := int64(-1)
			fetches.EachPartition(func(p kgo.FetchTopicPartition) { hw = p.HighWatermark })
			if hw >= r.End && fetches.NumRecords() == 0 && fetches.Empty() {
				return fmt.Errorf("read %s: no record at offset %d within %s", r, next, idle)
			}
			if fetches.Empty() {
				return fmt.Errorf("read %s: no record at offset %d within %s", r, next, idle)
			}
		}
	}
	return nil
}
