package analytics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// sentAtLayout has a fixed length, so the envelope's size is known in advance.
const sentAtLayout = "2006-01-02T15:04:05.000Z"

// envelope writes the batch body around the messages:
// {"batch":[…],"sentAt":"…","context":{…}}.
type envelope struct {
	context []byte // the batch-level context, with context.library
}

func newEnvelope(def *Context) (envelope, error) {
	var ctx Context
	if def != nil {
		ctx = *def
	}
	if ctx.Library == (Library{}) {
		ctx.Library = Library{Name: libraryName, Version: Version}
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return envelope{}, fmt.Errorf("analytics: default context: %w", err)
	}
	return envelope{context: b}, nil
}

// overhead is the size of the body without its messages and the commas between them.
func (e envelope) overhead() int {
	return len(`{"batch":[],"sentAt":"`) + len(sentAtLayout) + len(`","context":`) + len(e.context) + len(`}`)
}

// body encodes the batch with sentAt.
func (e envelope) body(items []item, sentAt time.Time) []byte {
	n := e.overhead() + len(items)
	for _, it := range items {
		n += len(it.data)
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(`{"batch":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.data)
	}
	b.WriteString(`],"sentAt":"`)
	b.WriteString(sentAt.UTC().Format(sentAtLayout))
	b.WriteString(`","context":`)
	b.Write(e.context)
	b.WriteByte('}')
	return b.Bytes()
}

// batch is the one goroutine that reads the queue: it cuts batches by count, bytes and age and
// hands them to the senders. It returns when Close closed the queue and it is drained.
func (c *Client) batch() {
	defer close(c.batches)
	var (
		cur   []item
		size  = c.envelope.overhead()
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	flush := func() {
		if len(cur) == 0 {
			return
		}
		timer.Stop()
		c.batches <- cur
		cur, size = nil, c.envelope.overhead()
	}
	for {
		select {
		case it, ok := <-c.queue:
			if !ok {
				flush()
				return
			}
			c.queued.Add(-int64(len(it.data)))
			if len(cur) > 0 && size+1+len(it.data) > c.cfg.maxBatchBytes {
				flush()
			}
			cur = append(cur, it)
			size += 1 + len(it.data)
			if len(cur) == 1 {
				timer.Reset(c.cfg.flushInterval)
			}
			if len(cur) >= c.cfg.batchSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}
