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

// errNotCheckedYet is /readyz's answer while the first broker check is under way.
var errNotCheckedYet = errors.New("the first broker check is still under way")

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
	// One allocation for the records and one for all keys and values: the slices into buf stay
	// valid when append moves it, since what they point at is never written again.
	recs := make([]*kgo.Record, 0, len(evs)+len(rejs))
	backing := make([]kgo.Record, len(evs))
	size := 0
	for i := range evs {
		size += encodedSizeHint(&evs[i])
	}
	buf := make([]byte, 0, size)
	for i := range evs {
		e := &evs[i]
		start := len(buf)
		buf = append(buf, e.Key()...)
		key := buf[start:len(buf):len(buf)]
		start = len(buf)
		buf = e.AppendJSON(buf)
		backing[i] = kgo.Record{Topic: bus.EventsTopic, Key: key, Value: buf[start:len(buf):len(buf)], Timestamp: now}
		recs = append(recs, &backing[i])
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

// encodedSizeHint is about the size of an event's key and JSON.
func encodedSizeHint(e *event.Event) int {
	return 320 + len(e.MessageID) + 2*len(e.UserID) + len(e.AnonymousID) + len(e.Event) + len(e.Name) +
		len(e.Context) + len(e.Properties) + len(e.Traits)
}

// encodeEvent is the record value of an event.
func (c *Collector) encodeEvent(e *event.Event) ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, encodedSizeHint(e))), nil
}
