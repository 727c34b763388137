package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
)

// errAckTimeout is a produce that Kafka did not acknowledge within ProduceTimeout.
var errAckTimeout = errors.New("kafka did not acknowledge in time")

// acks counts a request's outstanding records. The last promise releases the request's room and
// closes done, so the room stays taken while kgo still holds the records, even after the request
// gave up waiting.
type acks struct {
	remaining atomic.Int64
	done      chan struct{}
	release   func()

	mu    sync.Mutex
	first error
}

func (a *acks) promise(_ *kgo.Record, err error) {
	if err != nil {
		a.mu.Lock()
		if a.first == nil {
			a.first = err
		}
		a.mu.Unlock()
	}
	if a.remaining.Add(-1) == 0 {
		a.release()
		close(a.done)
	}
}

func (a *acks) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.first
}

// produce writes the events to EventsTopic and the rejections (as DeadLetters) to DLQTopic and
// waits until Kafka acknowledged all of them, or ProduceTimeout passed. It owns weight units of
// the room, which it gives back once every record is settled.
func (c *Collector) produce(ctx context.Context, evs []event.Event, rejs []event.Rejection, source string, now time.Time, weight int64) error {
	c.m.inFlight.Add(float64(weight))
	release := func() {
		c.m.inFlight.Sub(float64(weight))
		c.room.Release(weight)
	}
	recs := make([]*kgo.Record, 0, len(evs)+len(rejs))
	for i := range evs {
		v, err := json.Marshal(&evs[i])
		if err != nil {
			release()
			return fmt.Errorf("encode event %s: %w", evs[i].MessageID, err)
		}
		recs = append(recs, &kgo.Record{Topic: bus.EventsTopic, Key: []byte(evs[i].Key()), Value: v, Timestamp: now})
	}
	for _, rej := range rejs {
		v, err := json.Marshal(event.NewDeadLetter(rej, source, now))
		if err != nil {
			release()
			return fmt.Errorf("encode dead letter %d: %w", rej.Index, err)
		}
		var key []byte
		if rej.MessageID != "" {
			key = []byte(rej.MessageID)
		}
		recs = append(recs, &kgo.Record{Topic: bus.DLQTopic, Key: key, Value: v, Timestamp: now})
	}

	a := &acks{done: make(chan struct{}), release: release}
	a.remaining.Store(int64(len(recs)))
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ProduceTimeout)
	defer cancel() // fails what kgo still buffers, where that is safe; promises then release the room
	start := time.Now()
	for _, rec := range recs {
		c.producer.Produce(ctx, rec, a.promise)
	}
	var err error
	select {
	case <-a.done:
		err = a.err()
	case <-ctx.Done():
		err = fmt.Errorf("%w (%s): %w", errAckTimeout, c.cfg.ProduceTimeout, ctx.Err())
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	c.m.produce.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	if err != nil {
		return fmt.Errorf("produce %d records: %w", len(recs), err)
	}
	return nil
}
