package signature

import (
	"container/heap"
	"sync"
	"time"
)

// NonceCache remembers the nonces of accepted requests until their timestamps leave the replay
// window, so a replayed request is refused. It holds at most Size entries: when full it forgets the
// entry with the oldest timestamp and from then on refuses every request whose timestamp is not
// newer than that one (a replay of a forgotten nonce could otherwise pass), so memory is bounded
// and no replay gets through; under pressure only requests signed earlier than the newest
// forgotten one are refused. It is safe for concurrent use. It is per process: replicas share
// replay protection only through a shared store (the gateway also records nonces in the metadata
// store).
type NonceCache struct {
	size   int
	window time.Duration

	mu    sync.Mutex
	seen  map[string]struct{}
	byTS  nonceHeap
	floor int64 // requests with Timestamp <= floor are refused
}

// NewNonceCache returns a cache of at most size entries (minimum 1) for the given replay window.
func NewNonceCache(size int, window time.Duration) *NonceCache {
	return &NonceCache{size: max(size, 1), window: window, seen: make(map[string]struct{})}
}

// Check records p's nonce and reports nil when it was new, or an *Error naming X-CityPulse-Nonce
// when the same source used it within the window (or it cannot be told apart from such a replay).
// Call it only after the signature verified, so forged requests cannot fill the cache.
func (c *NonceCache) Check(p Params, now time.Time) error {
	key := p.Source + "\x00" + p.Nonce
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, dup := c.seen[key]; dup {
		return headerErr(HeaderNonce, "already used by source %q within the replay window (a replayed request)", p.Source)
	}
	if p.Timestamp <= c.floor {
		return headerErr(HeaderNonce, "cannot be checked: the nonce cache is full and forgot requests signed at or before %d; sign again with the current time", c.floor)
	}
	for len(c.byTS) >= c.size {
		e := heap.Pop(&c.byTS).(nonceEntry)
		delete(c.seen, e.key)
		c.floor = max(c.floor, e.ts)
	}
	c.seen[key] = struct{}{}
	heap.Push(&c.byTS, nonceEntry{key: key, ts: p.Timestamp})
	return nil
}

// Len returns how many nonces are remembered.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// expire forgets nonces whose timestamps CheckTime refuses anyway.
func (c *NonceCache) expire(now time.Time) {
	limit := now.Add(-c.window).Unix()
	for len(c.byTS) > 0 && c.byTS[0].ts < limit {
		e := heap.Pop(&c.byTS).(nonceEntry)
		delete(c.seen, e.key)
	}
}

type nonceEntry struct {
	key string
	ts  int64
}

type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
