package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Version is the SDK version sent in context.library and the User-Agent.
const Version = "1.0.0"

// libraryName is context.library.name.
const libraryName = "citypulse-go"

// Errors Enqueue returns (wrapped); check them with errors.Is.
var (
	// ErrQueueFull: the queue had no room within BlockTimeout; the message was dropped.
	ErrQueueFull = errors.New("analytics: queue full")
	// ErrTooLarge: the message encodes to more than MaxEventBytes; the collector would refuse it.
	ErrTooLarge = errors.New("analytics: message too large")
	// ErrInvalid: the message breaks a rule the collector enforces (a missing id or name, an id
	// too long, a value that does not encode as JSON).
	ErrInvalid = errors.New("analytics: invalid message")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("analytics: client closed")
)

// Client queues messages and delivers them to a CityPulse collector in batches. It is safe for
// concurrent use. Close it to deliver what is queued.
type Client struct {
	cfg      config
	writeKey string
	batchURL string
	envelope envelope
	log      *slog.Logger
	stats    counters

	mu     sync.RWMutex // Enqueue holds it shared while it sends to queue; Close exclusively
	closed bool
	queue  chan item
	// queued is the JSON bytes of the messages in queue (WithQueueBytes bounds it).
	queued atomic.Int64

	batches chan []item
	closing chan struct{}   // closed when Close starts: retry until stopCtx ends
	stopCtx context.Context // ends when Close's context ends: give up
	stop    context.CancelFunc
	done    chan struct{} // closed when the batcher and all senders have returned
}

// item is a queued message and its JSON.
type item struct {
	msg  Message
	data []byte
}

// New returns a client sending with writeKey (HTTP Basic username) to the collector at
// endpoint, its base URL such as "http://127.0.0.1:8080"; batches go to endpoint + "/v1/batch".
// It starts the client's goroutines: call Close when done.
func New(writeKey, endpoint string, opts ...Option) (*Client, error) {
	if writeKey == "" {
		return nil, errors.New("analytics: write key is required")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("analytics: endpoint %q: want an http or https base URL such as http://127.0.0.1:8080", endpoint)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/batch"
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	env, err := newEnvelope(cfg.defaultCtx)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(env.overhead()); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	if cfg.httpClient == nil {
		cfg.httpClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:      cfg,
		writeKey: writeKey,
		batchURL: u.String(),
		envelope: env,
		log:      log.With("component", "analytics"),
		queue:    make(chan item, cfg.queueSize),
		batches:  make(chan []item),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	c.stopCtx, c.stop = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1 + cfg.concurrency)
	go func() { defer wg.Done(); c.batch() }()
	for range cfg.concurrency {
		go func() { defer wg.Done(); c.send() }()
	}
	go func() { wg.Wait(); close(c.done) }()
	return c, nil
}

// Track queues a track call; see Enqueue.
func (c *Client) Track(m Track) error { return c.Enqueue(m) }

// Page queues a page call; see Enqueue.
func (c *Client) Page(m Page) error { return c.Enqueue(m) }

// Screen queues a screen call; see Enqueue.
func (c *Client) Screen(m Screen) error { return c.Enqueue(m) }

// Identify queues an identify call; see Enqueue.
func (c *Client) Identify(m Identify) error { return c.Enqueue(m) }

// Alias queues an alias call; see Enqueue.
func (c *Client) Alias(m Alias) error { return c.Enqueue(m) }

// Enqueue fills in the message's MessageID and Timestamp when empty, checks and encodes it, and
// queues it for delivery. It returns an error wrapping ErrInvalid, ErrTooLarge, ErrQueueFull or
// ErrClosed when the message will not be sent (and counts it in Stats.Dropped). It waits for
// room in a full queue at most BlockTimeout (by default not at all).
func (c *Client) Enqueue(m Message) error {
	if m == nil {
		return c.refuse(DropInvalid, nil, fmt.Errorf("%w: nil message", ErrInvalid))
	}
	m = m.complete(time.Now())
	w, err := m.wire()
	if err != nil {
		return c.refuse(DropInvalid, m, err)
	}
	data, err := json.Marshal(w)
	if err != nil {
		return c.refuse(DropInvalid, m, fmt.Errorf("%w: %s %s: %w", ErrInvalid, w.Type, w.MessageID, err))
	}
	if len(data) > MaxEventBytes {
		return c.refuse(DropTooLarge, m, fmt.Errorf("%w: %s %s is %d bytes as JSON, more than the %d allowed", ErrTooLarge, w.Type, w.MessageID, len(data), MaxEventBytes))
	}
	switch err := c.put(item{msg: m, data: data}); {
	case errors.Is(err, ErrClosed):
		return c.refuse(DropClosed, m, err)
	case err != nil:
		return c.refuse(DropQueueFull, m, err)
	}
	return nil
}

// put queues it, waiting at most BlockTimeout for room (a free slot and, with it, bytes under
// WithQueueBytes). The drop handler is called after it returned, outside the lock, so that the
// handler may call the client.
func (c *Client) put(it item) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	c.stats.pending.Add(1)
	n := int64(len(it.data))
	if c.tryPut(it, n) || (c.cfg.blockTimeout > 0 && c.waitPut(it, n)) {
		c.stats.enqueued.Add(1)
		return nil
	}
	c.stats.pending.Add(-1)
	return fmt.Errorf("%w: %d messages, %d bytes queued (at most %d, %d bytes)", ErrQueueFull, len(c.queue), c.queued.Load(), c.cfg.queueSize, c.cfg.queueBytes)
}

// tryPut queues it, of n bytes, at once if the bytes fit under WithQueueBytes and a slot is free.
func (c *Client) tryPut(it item, n int64) bool {
	if c.queued.Add(n) <= int64(c.cfg.queueBytes) {
		select {
		case c.queue <- it:
			return true
		default:
		}
	}
	c.queued.Add(-n)
	return false
}

// waitPut queues it, of n bytes, within BlockTimeout: with the bytes reserved it waits for a
// slot; while they do not fit it looks again every millisecond, as the batcher takes messages out.
func (c *Client) waitPut(it item, n int64) bool {
	timeout := time.NewTimer(c.cfg.blockTimeout)
	defer timeout.Stop()
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for {
		if c.queued.Add(n) <= int64(c.cfg.queueBytes) {
			select {
			case c.queue <- it:
				return true
			case <-timeout.C:
				c.queued.Add(-n)
				return false
			}
		}
		c.queued.Add(-n)
		select {
		case <-poll.C:
		case <-timeout.C:
			return false
		}
	}
}

// refuse counts a message Enqueue does not take and returns err.
func (c *Client) refuse(reason string, m Message, err error) error {
	var msgs []Message
	if m != nil {
		msgs = []Message{m}
	}
	c.stats.drop(reason, 1)
	if c.cfg.onDropped != nil {
		c.cfg.onDropped(reason, msgs, err)
	}
	return err
}

// Close stops taking messages and delivers everything queued, retrying failed batches until ctx
// ends (MaxAttempts no longer applies). When ctx ends first, what is left is dropped under
// DropClosed and Close returns an error wrapping ctx's. Calls after the first return ErrClosed.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	close(c.closing)
	close(c.queue)
	c.mu.Unlock()

	select {
	case <-c.done:
		c.stop()
		return nil
	case <-ctx.Done():
	}
	c.stop()
	<-c.done
	s := c.stats.snapshot()
	return fmt.Errorf("analytics: close: %d messages dropped as %q: %w", s.Dropped[DropClosed], DropClosed, ctx.Err())
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// isClosing reports whether Close has started.
func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}
