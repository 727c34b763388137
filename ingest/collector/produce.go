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

// produce writes the events to the events topic and the rejections (as DeadLetters) to the
// dead-letter topic (c.topics) and
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
	// The memory comes from a pool and goes back once the last promise ran, when kgo is done
	// with the records (a request that gave up waiting leaves it to the promises).
	rb := recBufs.Get().(*recBuf)
	size := 0
	for i := range evs {
		size += encodedSizeHint(&evs[i])
	}
	recs, backing, buf := rb.get(len(evs)+len(rejs), len(evs), size)
	inner := release
	release = func() {
		inner()
		rb.put(recs, backing, buf)
	}
	var enc event.Encoder
	topic := c.topics.Events() // once: with a topic prefix it is a concatenation
	for i := range evs {
		e := &evs[i]
		start := len(buf)
		buf = append(buf, e.Key()...)
		key := buf[start:len(buf):len(buf)]
		start = len(buf)
		buf = enc.Append(buf, e)
		backing[i] = kgo.Record{Topic: topic, Key: key, Value: buf[start:len(buf):len(buf)], Timestamp: now}
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
		recs = append(recs, &kgo.Record{Topic: c.topics.DLQ(), Key: key, Value: v, Timestamp: now})
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

// recBuf is the memory of one request's records: pointers, records and keys and values.
type recBuf struct {
	recs    []*kgo.Record
	backing []kgo.Record
	buf     []byte
}

var recBufs = sync.Pool{New: func() any { return new(recBuf) }}

// maxPooledRecBytes caps the key and value memory kept in recBufs.
const maxPooledRecBytes = 1 << 20

// get returns empty record pointers for n records, nEvents zero records and an empty byte
// buffer of capacity size at least.
func (rb *recBuf) get(n, nEvents, size int) ([]*kgo.Record, []kgo.Record, []byte) {
	if cap(rb.recs) < n {
		rb.recs = make([]*kgo.Record, 0, n)
	}
	if cap(rb.backing) < nEvents {
		rb.backing = make([]kgo.Record, nEvents)
	}
	if cap(rb.buf) < size {
		rb.buf = make([]byte, 0, size)
	}
	return rb.recs[:0], rb.backing[:nEvents], rb.buf[:0]
}

// put gives the memory back to the pool, keeping the larger buffer when append grew it.
func (rb *recBuf) put(recs []*kgo.Record, backing []kgo.Record, buf []byte) {
	clear(recs)
	clear(backing) // drop the records' references
	rb.recs, rb.backing = recs[:0], backing[:0]
	if cap(buf) > cap(rb.buf) {
		rb.buf = buf[:0]
	}
	if cap(rb.buf) > maxPooledRecBytes {
		rb.buf = nil
	}
	recBufs.Put(rb)
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
