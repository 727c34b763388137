package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of the options.
const (
	DefaultQueueSize     = 10000
	DefaultQueueBytes    = 16 << 20
	DefaultBatchSize     = 100
	DefaultFlushInterval = time.Second
	DefaultMaxAttempts   = 10
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultConcurrency   = 2
	DefaultHTTPTimeout   = 30 * time.Second
	// maxRetryAfter caps the wait a Retry-After header can impose.
	maxRetryAfter = time.Minute
)

// Option configures a Client; see New.
type Option func(*config)

type config struct {
	queueSize     int
	queueBytes    int
	batchSize     int
	maxBatchBytes int
	flushInterval time.Duration
	blockTimeout  time.Duration
	maxAttempts   int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	concurrency   int
	gzip          bool
	httpClient    *http.Client
	log           *slog.Logger
	defaultCtx    *Context
	onRejected    func(Rejection)
	onDropped     func(reason string, msgs []Message, err error)
	sleep         func(ctx context.Context, d time.Duration) error // tests replace it
}

func defaultConfig() config {
	return config{
		queueSize:     DefaultQueueSize,
		queueBytes:    DefaultQueueBytes,
		batchSize:     DefaultBatchSize,
		maxBatchBytes: DefaultMaxBatchBytes,
		flushInterval: DefaultFlushInterval,
		maxAttempts:   DefaultMaxAttempts,
		minBackoff:    DefaultMinBackoff,
		maxBackoff:    DefaultMaxBackoff,
		concurrency:   DefaultConcurrency,
		gzip:          true,
		sleep:         sleep,
	}
}

// Queueing.

// WithQueueSize bounds the messages held in memory waiting for a batch (default 10,000). When
// the queue is full, Enqueue waits up to the BlockTimeout, then drops the message.
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithQueueBytes bounds the JSON bytes of the messages held in memory waiting for a batch
// (default 16 MiB), whatever their count: a full queue of large events cannot take more. When
// it is reached, Enqueue waits up to the BlockTimeout, then drops the message (DropQueueFull).
func WithQueueBytes(n int) Option { return func(c *config) { c.queueBytes = n } }

// WithBlockTimeout is how long Enqueue may wait for room in a full queue (default 0: never
// wait; drop the message, count it under DropQueueFull and return ErrQueueFull).
func WithBlockTimeout(d time.Duration) Option { return func(c *config) { c.blockTimeout = d } }

// Batching.

// WithBatchSize is the most messages one request carries (default 100).
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithMaxBatchBytes bounds one request body before compression (default 512 KiB, the
// collector's default limit). Set it to the collector's collector-max-body-bytes if that is
// lower. It must leave room for one message of MaxEventBytes.
func WithMaxBatchBytes(n int) Option { return func(c *config) { c.maxBatchBytes = n } }

// WithFlushInterval is the longest a message waits for its batch to fill up (default 1s).
func WithFlushInterval(d time.Duration) Option { return func(c *config) { c.flushInterval = d } }

// Delivery.

// WithMaxAttempts is how many times a batch is tried on network errors, 429 and 5xx answers
// before it is dropped under DropRetriesExhausted (default 10). While Close is flushing,
// batches are retried until its context ends, whatever this says.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithBackoff sets the exponential backoff between attempts: min doubles up to max, and each
// wait is drawn between half and all of it (defaults 100ms and 10s). A Retry-After header
// (up to a minute) takes precedence.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = min, max }
}

// WithConcurrency is how many requests may be in flight at once (default 2).
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithGzip turns request compression on or off (default on; the collector accepts both).
func WithGzip(on bool) Option { return func(c *config) { c.gzip = on } }

// WithHTTPClient sends requests with hc (default: a client with a 30s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// Content and reporting.

// WithDefaultContext sends ctx once per batch as the batch-level context; the collector merges
// it under every event's own context. Use it for what is true of every event of the service,
// e.g. App and Device.
func WithDefaultContext(ctx Context) Option { return func(c *config) { c.defaultCtx = &ctx } }

// WithLogger logs retries (debug) and drops (warn) to log (default: nowhere).
func WithLogger(log *slog.Logger) Option { return func(c *config) { c.log = log } }

// WithRejectionHandler calls f for every event the collector answered 200 for but rejected
// (a bad field, a tracking-plan violation). f runs on a delivery goroutine: keep it quick.
func WithRejectionHandler(f func(Rejection)) Option { return func(c *config) { c.onRejected = f } }

// WithDropHandler calls f with the messages the client gave up on and why (one of the Drop…
// reasons), and the error behind it when there is one. f runs on the goroutine that dropped
// them (Enqueue's for the queue_full, too_large and invalid reasons): keep it quick.
func WithDropHandler(f func(reason string, msgs []Message, err error)) Option {
	return func(c *config) { c.onDropped = f }
}

// validate rejects settings that cannot work, naming the option.
func (c *config) validate(envelope int) error {
	var errs []error
	if c.queueSize < 1 {
		errs = append(errs, fmt.Errorf("WithQueueSize(%d): want at least 1", c.queueSize))
	}
	if c.queueBytes < MaxEventBytes {
		errs = append(errs, fmt.Errorf("WithQueueBytes(%d): want at least MaxEventBytes (%d), room for one event", c.queueBytes, MaxEventBytes))
	}
	if c.batchSize < 1 {
		errs = append(errs, fmt.Errorf("WithBatchSize(%d): want at least 1", c.batchSize))
	}
	if min := MaxEventBytes + envelope; c.maxBatchBytes < min {
		errs = append(errs, fmt.Errorf("WithMaxBatchBytes(%d): want at least %d, room for one message of MaxEventBytes and the batch envelope", c.maxBatchBytes, min))
	}
	if c.flushInterval <= 0 {
		errs = append(errs, fmt.Errorf("WithFlushInterval(%s): want more than 0", c.flushInterval))
	}
	if c.blockTimeout < 0 {
		errs = append(errs, fmt.Errorf("WithBlockTimeout(%s): must not be negative", c.blockTimeout))
	}
	if c.maxAttempts < 1 {
		errs = append(errs, fmt.Errorf("WithMaxAttempts(%d): want at least 1", c.maxAttempts))
	}
	if c.minBackoff <= 0 || c.maxBackoff < c.minBackoff {
		errs = append(errs, fmt.Errorf("WithBackoff(%s, %s): want 0 < min <= max", c.minBackoff, c.maxBackoff))
	}
	if c.concurrency < 1 {
		errs = append(errs, fmt.Errorf("WithConcurrency(%d): want at least 1", c.concurrency))
	}
	return errors.Join(errs...)
}
