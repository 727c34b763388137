package analytics

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Reasons a message is dropped, the keys of Stats.Dropped. A refused HTTP request adds
// "http_<status>", e.g. "http_401".
const (
	DropQueueFull        = "queue_full"        // Enqueue found the queue full (after BlockTimeout)
	DropTooLarge         = "too_large"         // the message encodes to more than MaxEventBytes
	DropInvalid          = "invalid"           // the message breaks a rule (ErrInvalid)
	DropClosed           = "closed"            // Enqueue after Close, or Close's context ended first
	DropRetriesExhausted = "retries_exhausted" // MaxAttempts failed with network errors, 429 or 5xx
)

// dropHTTP is the drop reason of a batch refused with status.
func dropHTTP(status int) string { return fmt.Sprintf("http_%d", status) }

// Stats are the client's counters since New. Every message handed to Enqueue ends up counted
// once in Sent or Dropped (refused by Enqueue, or given up later); until then it is Pending.
// After Close returned, Enqueued = Sent + the drops after queueing.
type Stats struct {
	Enqueued int64            // messages Enqueue put in the queue
	Pending  int64            // messages queued or in flight now
	Batches  int64            // requests the collector answered 2xx
	Sent     int64            // messages in those requests
	Accepted int64            // messages the collector accepted
	Rejected int64            // messages the collector rejected in a 2xx answer (see Rejection)
	Retries  int64            // request attempts that were retried
	Dropped  map[string]int64 // messages given up, by reason (Drop… constants, "http_<status>")
}

type counters struct {
	enqueued, pending, batches, sent, accepted, rejected, retries atomic.Int64

	mu      sync.Mutex
	dropped map[string]int64
}

func (c *counters) drop(reason string, n int) {
	c.mu.Lock()
	if c.dropped == nil {
		c.dropped = map[string]int64{}
	}
	c.dropped[reason] += int64(n)
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Enqueued: c.enqueued.Load(),
		Pending:  c.pending.Load(),
		Batches:  c.batches.Load(),
		Sent:     c.sent.Load(),
		Accepted: c.accepted.Load(),
		Rejected: c.rejected.Load(),
		Retries:  c.retries.Load(),
		Dropped:  map[string]int64{},
	}
	c.mu.Lock()
	for k, v := range c.dropped {
		s.Dropped[k] = v
	}
	c.mu.Unlock()
	return s
}

// DroppedTotal is the sum of Dropped.
func (s Stats) DroppedTotal() int64 {
	var n int64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}
