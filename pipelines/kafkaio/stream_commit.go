package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Span is the half-open offset range [From, To) of one partition that a sink has finished:
// every record in it is durably written (or was deliberately skipped).
type Span struct {
	Topic     string
	Partition int32
	From, To  int64
}

// Progress collects the spans of the Messages a sink handles in one bundle, one per partition.
// The zero value is ready to use; it is not safe for concurrent use.
type Progress struct {
	spans map[topicPartition]Span
}

type topicPartition struct {
	topic     string
	partition int32
}

// Add counts m as handled.
func (p *Progress) Add(m Message) {
	if p.spans == nil {
		p.spans = map[topicPartition]Span{}
	}
	k := topicPartition{m.Record.Topic, m.Record.Partition}
	from := min(m.From, m.Record.Offset)
	sp, ok := p.spans[k]
	if !ok {
		p.spans[k] = Span{Topic: k.topic, Partition: k.partition, From: from, To: m.Record.Offset + 1}
		return
	}
	sp.From, sp.To = min(sp.From, from), max(sp.To, m.Record.Offset+1)
	p.spans[k] = sp
}

// Take returns the spans collected since the last Take, by partition, and resets p.
func (p *Progress) Take() []Span {
	out := make([]Span, 0, len(p.spans))
	for _, sp := range p.spans {
		out = append(out, sp)
	}
	p.spans = nil
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Committer commits a consumer group's progress from the spans a sink reports as finished: per
// partition, it commits the end of the contiguous run of finished spans that starts at the
// group's committed offset (or at the log start when nothing is committed), never past a gap. A
// span that does not connect yet (finished out of order) waits for the spans before it. So the
// committed offset only ever covers written records: a restart from it re-reads, never skips,
// and sinks must be idempotent. It is safe for concurrent use.
type Committer struct {
	adm   *kadm.Client
	group string

	mu sync.Mutex
	// committed is the offset each partition is finished up to; dirty marks those not yet
	// committed to Kafka (a failed commit is retried by the next call).
	committed map[topicPartition]int64
	dirty     map[topicPartition]bool
	pending   map[topicPartition][]Span
}

// NewCommitter commits for group through adm (which the caller owns and closes).
func NewCommitter(adm *kadm.Client, group string) *Committer {
	return &Committer{adm: adm, group: group, committed: map[topicPartition]int64{}, dirty: map[topicPartition]bool{}, pending: map[topicPartition][]Span{}}
}

// Finished records spans as finished and commits what became contiguous. On an error the spans
// stay recorded, and the next call commits them: the error is worth a log line, not a failure,
// since the data is already written.
func (c *Committer) Finished(ctx context.Context, spans []Span) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sp := range spans {
		if sp.To > sp.From {
			k := topicPartition{sp.Topic, sp.Partition}
			c.pending[k] = append(c.pending[k], sp)
		}
	}
	if len(c.pending) > 0 {
		if err := c.loadUnknown(ctx); err != nil {
			return err
		}
		c.advance()
	}
	if len(c.pending) > 0 {
		// Someone else (another worker, an earlier run) may have moved the group on.
		if err := c.reload(ctx); err != nil {
			return err
		}
		c.advance()
	}
	if len(c.dirty) == 0 {
		return nil
	}
	offs := kadm.Offsets{}
	for k := range c.dirty {
		offs.Add(kadm.Offset{Topic: k.topic, Partition: k.partition, At: c.committed[k], LeaderEpoch: -1})
	}
	if err := c.adm.CommitAllOffsets(ctx, c.group, offs); err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", c.group, err)
	}
	clear(c.dirty)
	return nil
}

// Committed returns the offset the committer last committed or read for the partition.
func (c *Committer) Committed(topic string, partition int32) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.committed[topicPartition{topic, partition}]
	return v, ok
}

// advance moves every partition's committed offset over its connecting pending spans, marking
// the partitions it moved dirty.
func (c *Committer) advance() {
	for k, spans := range c.pending {
		at, ok := c.committed[k]
		if !ok {
			continue
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
		moved := at
		i := 0
		for ; i < len(spans) && spans[i].From <= moved; i++ {
			moved = max(moved, spans[i].To)
		}
		if rest := spans[i:]; len(rest) > 0 {
			c.pending[k] = rest
		} else {
			delete(c.pending, k)
		}
		if moved > at {
			c.committed[k], c.dirty[k] = moved, true
		}
	}
}

// loadUnknown reads the starting point of partitions the committer has not seen yet.
func (c *Committer) loadUnknown(ctx context.Context) error {
	for k := range c.pending {
		if _, ok := c.committed[k]; !ok {
			return c.reload(ctx)
		}
	}
	return nil
}

// reload reads the group's committed offsets (or the log start where nothing is committed) of
// every pending partition; an offset already known is only ever raised.
func (c *Committer) reload(ctx context.Context) error {
	committed, err := c.adm.FetchOffsets(ctx, c.group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return fmt.Errorf("fetch committed offsets of group %s: %w", c.group, err)
	}
	topics := map[string]bool{}
	for k := range c.pending {
		topics[k.topic] = true
	}
	for topic := range topics {
		starts, err := c.adm.ListStartOffsets(ctx, topic)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			return fmt.Errorf("list start offsets of %s: %w", topic, err)
		}
		starts.Each(func(s kadm.ListedOffset) {
			k := topicPartition{topic, s.Partition}
			at := s.Offset
			if o, ok := committed.Lookup(topic, s.Partition); ok && o.Err == nil && o.At > at {
				at = o.At
			}
			if cur, ok := c.committed[k]; !ok || at > cur {
				c.committed[k] = at
			}
		})
	}
	return nil
}
