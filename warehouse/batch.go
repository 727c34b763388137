package warehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// BatchConfig says where a BatchWriter inserts and when it flushes. Zero values mean the defaults.
type BatchConfig struct {
	// Table is "table" (in the connection's database) or "database.table".
	Table string
	// Columns are the inserted columns, in the order Write receives the values.
	Columns []string
	// MaxRows flushes once this many rows are buffered (default 50,000).
	MaxRows int
	// MaxDelay flushes once the oldest buffered row is this old (default 1s).
	MaxDelay time.Duration
	// MaxRetries is how often a failed insert is retried within one flush (default 5; negative: never).
	MaxRetries int
	// Backoff is the wait before the first retry (default 100ms); it doubles per retry, with
	// jitter, up to MaxBackoff (default 30s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// OnReject receives rows whose values the columns' types refuse (e.g. a string for a UInt32).
	// Such rows are never retried. When nil they are logged at error level. Both count in
	// citypulse_warehouse_rows_rejected_total.
	OnReject func(rows [][]any, err error)
}

func (c *BatchConfig) applyDefaults() {
	if c.MaxRows <= 0 {
		c.MaxRows = 50_000
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.Backoff <= 0 {
		c.Backoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.Backoff)
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("batch writer closed")

// BatchWriter buffers rows for one table and inserts them in batches: when MaxRows rows are
// buffered, when the oldest is MaxDelay old, and on Flush and Close. Rows stay buffered until the
// server has accepted them, so a failed insert is retried with the same rows and nothing is dropped
// (ClickHouse may still keep a batch whose acknowledgement was lost, so tables that must not count
// a row twice deduplicate, as the ReplacingMergeTree tables do). It is safe for concurrent use.
type BatchWriter struct {
	conn   driver.Conn
	cfg    BatchConfig
	insert string
	m      *tableMetrics
	log    *slog.Logger

	mu         sync.Mutex
	buf        [][]any
	spare      [][]any   // an emptied buffer kept for the next flush to hand to Writes
	oldest     time.Time // when the first row of buf was written
	retryAfter time.Time // the background flush rests until then after a failure
	closed     bool

	sem    chan struct{} // held by the one running flush
	kick   chan struct{} // wakes the background flusher
	stop   chan struct{}
	done   chan struct{}
	cancel context.CancelFunc // cancels the background flusher's insert
	bg     context.Context
}

// NewBatchWriter returns a writer for cfg.Table and starts its background flusher; Close stops it.
// m may be nil (no metrics) and log may be nil (no logging).
func NewBatchWriter(conn driver.Conn, cfg BatchConfig, m *Metrics, log *slog.Logger) (*BatchWriter, error) {
	if conn == nil {
		return nil, fmt.Errorf("batch writer: nil connection")
	}
	if cfg.Table == "" || strings.HasPrefix(cfg.Table, ".") || strings.HasSuffix(cfg.Table, ".") {
		return nil, fmt.Errorf("batch writer: table %q: want \"table\" or \"database.table\"", cfg.Table)
	}
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("batch writer for %s: no columns", cfg.Table)
	}
	cols := make([]string, len(cfg.Columns))
	for i, c := range cfg.Columns {
		if c == "" {
			return nil, fmt.Errorf("batch writer for %s: column %d has no name", cfg.Table, i+1)
		}
		cols[i] = QuoteIdent(c)
	}
	cfg.Columns = slices.Clone(cfg.Columns)
	cfg.applyDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bg, cancel := context.WithCancel(context.Background())
	w := &BatchWriter{
		conn:   conn,
		cfg:    cfg,
		insert: "INSERT INTO " + quoteTable(cfg.Table) + " (" + strings.Join(cols, ", ") + ")",
		m:      m.forTable(cfg.Table),
		log:    log.With("table", cfg.Table),
		sem:    make(chan struct{}, 1),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		cancel: cancel,
		bg:     bg,
	}
	go w.loop()
	return w, nil
}

// Write buffers one row, given as its column values in Columns order. When the buffer is full
// because earlier inserts failed, Write first flushes; if that fails it returns the error and the
// row is not taken. A nil error means the row is buffered and will be inserted. Write keeps a copy
// of the values slice; WriteOwned saves that copy when the caller builds a fresh slice per row.
func (w *BatchWriter) Write(ctx context.Context, row ...any) error {
	if err := w.checkLen(row); err != nil {
		return err
	}
	return w.add(ctx, row, true)
}

// WriteOwned is Write for a row the caller hands over: the writer keeps row itself, not a copy.
// The caller must not change row (its elements or what they point to) after the call, whatever
// it returns; OnReject may later receive it.
func (w *BatchWriter) WriteOwned(ctx context.Context, row []any) error {
	if err := w.checkLen(row); err != nil {
		return err
	}
	return w.add(ctx, row, false)
}

func (w *BatchWriter) checkLen(row []any) error {
	if len(row) != len(w.cfg.Columns) {
		return fmt.Errorf("write to %s: %d values for %d columns (%s)", w.cfg.Table, len(row), len(w.cfg.Columns),
			strings.Join(w.cfg.Columns, ", "))
	}
	return nil
}

// add buffers row (a copy of it when clone is set).
func (w *BatchWriter) add(ctx context.Context, row []any, clone bool) error {
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return fmt.Errorf("write to %s: %w", w.cfg.Table, ErrClosed)
		}
		if len(w.buf) < w.cfg.MaxRows {
			break // holding mu
		}
		w.mu.Unlock()
		if err := w.Flush(ctx); err != nil {
			return fmt.Errorf("write to %s: buffer full and flush failed: %w", w.cfg.Table, err)
		}
	}
	if len(w.buf) == 0 {
		w.oldest = time.Now()
	}
	if clone {
		row = slices.Clone(row)
	}
	w.buf = append(w.buf, row)
	n := len(w.buf)
	w.mu.Unlock()
	w.m.setBuffered(n)
	if n == 1 || n >= w.cfg.MaxRows {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Buffered returns how many rows are waiting to be inserted.
func (w *BatchWriter) Buffered() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf)
}

// Close stops the background flusher, letting an insert it has under way finish (unless ctx ends
// first), then flushes what is buffered with ctx. Later Writes fail with ErrClosed. If the final
// flush fails its error is returned and the rows stay in the writer: Flush may be called again.
//
// An insert is not cancelled merely because Close was called: cancelling closes the connection in
// the middle of the insert, and ClickHouse keeps what it had received of it, so the rows kept for
// the final flush would be inserted twice (seen with a background flush under way at Close).
func (w *BatchWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if !already {
		close(w.stop)
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
	}
	w.cancel()
	return w.Flush(ctx)
}

// loop flushes when the buffer is full or its oldest row is MaxDelay old.
func (w *BatchWriter) loop() {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake <-chan time.Time
		if due, ok := w.due(); ok {
			timer.Reset(max(time.Until(due), 0))
			wake = timer.C
		}
		select {
		case <-w.stop:
			return
		case <-w.kick:
			continue
		case <-wake:
		}
		// flush checks, once its turn comes, that the buffer is due.
		if err := w.flush(w.bg, true); err != nil {
			if w.bg.Err() != nil {
				return
			}
			w.log.Warn("background flush failed; rows kept for the next one", "rows", w.Buffered(), "err", err)
			w.mu.Lock()
			w.retryAfter = time.Now().Add(w.cfg.MaxBackoff)
			w.mu.Unlock()
		}
	}
}

// due reports when the background flusher should next flush, and whether there is anything to.
func (w *BatchWriter) due() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return time.Time{}, false
	}
	at := w.oldest.Add(w.cfg.MaxDelay)
	if len(w.buf) >= w.cfg.MaxRows {
		at = time.Now()
	}
	if at.Before(w.retryAfter) {
		at = w.retryAfter
	}
	return at, true
}
