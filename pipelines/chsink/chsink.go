// Package chsink is the ClickHouse sink every CityPulse Beam pipeline writes through. A sink DoFn
// embeds a Sink (its exported fields are the DoFn's serialised configuration), calls Open in
// Setup, Write per element, Flush in FinishBundle and Close in Teardown. Rows go through a
// warehouse.BatchWriter (batched, retried with backoff); Flush returns only once ClickHouse has
// every row of the bundle, and a row the server refuses fails the bundle, so the runner retries it
// or the run fails and commits nothing — never a silent drop. Sink tables must be idempotent
// (ReplacingMergeTree keyed by the record's identity), because a retried bundle writes again.
// It knows nothing of any pipeline's rows.
package chsink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/warehouse"
)

// Sink writes rows of one table. Only the exported fields survive serialisation.
type Sink struct {
	Warehouse warehouse.Config
	Table     string
	Columns   []string
	// BatchRows is the insert batch size (warehouse default when 0).
	BatchRows int
	// Namespace is the Beam counter namespace; the counter is "rows_written".
	Namespace string

	conn     driver.Conn
	w        *warehouse.BatchWriter
	written  beam.Counter
	loadedAt time.Time

	mu      sync.Mutex // guards rejects: OnReject may run on the writer's background flusher
	rejects []error

	closeOnce sync.Once
	closeErr  error
}

// CounterWritten is the name of the rows-written counter in the sink's namespace.
const CounterWritten = "rows_written"

// Open connects to ClickHouse and prepares the batch writer (call it from Setup).
func (s *Sink) Open(ctx context.Context) error {
	conn, err := warehouse.Open(ctx, s.Warehouse)
	if err != nil {
		return err
	}
	cfg := warehouse.BatchConfig{Table: s.Table, Columns: s.Columns, MaxRows: s.BatchRows,
		OnReject: func(rows [][]any, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.rejects = append(s.rejects, fmt.Errorf("%d rows refused: %w", len(rows), err))
		}}
	w, err := warehouse.NewBatchWriter(conn, cfg, nil, nil)
	if err != nil {
		conn.Close()
		return err
	}
	s.conn, s.w = conn, w
	s.written = beam.NewCounter(s.Namespace, CounterWritten)
	// The Beam Go harness (v2.77 on Prism) does not call Teardown when a job ends, so every run
	// would leave its connection behind: close when the worker's context (Setup's) ends too.
	context.AfterFunc(ctx, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Close(cctx)
	})
	return nil
}

// LoadedAt is the load time of the current bundle's rows (the version column of idempotent
// tables): the same for every row of a bundle.
func (s *Sink) LoadedAt() time.Time {
	if s.loadedAt.IsZero() {
		s.loadedAt = time.Now()
	}
	return s.loadedAt
}

// Write buffers one row's values, in Columns order. The sink keeps vals until the row is
// inserted (warehouse.BatchWriter.WriteOwned): the caller must not change the slice afterwards.
func (s *Sink) Write(ctx context.Context, vals []any) error {
	if err := s.w.WriteOwned(ctx, vals); err != nil {
		return fmt.Errorf("write %s: %w", s.Table, err)
	}
	s.written.Inc(ctx, 1)
	return nil
}

// Flush returns once ClickHouse has every buffered row (call it from FinishBundle).
func (s *Sink) Flush(ctx context.Context) error {
	s.loadedAt = time.Time{}
	if err := s.w.Flush(ctx); err != nil {
		return fmt.Errorf("flush %s: %w", s.Table, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rejects) > 0 {
		err := fmt.Errorf("write %s: %w", s.Table, s.rejects[0])
		s.rejects = nil
		return err
	}
	return nil
}

// Close flushes what is left and closes the connection (call it from Teardown; it also runs
// when Open's context ends). Only the first call does anything.
func (s *Sink) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		if s.w != nil {
			s.closeErr = s.w.Close(ctx)
		}
		if s.conn != nil {
			if cerr := s.conn.Close(); s.closeErr == nil {
				s.closeErr = cerr
			}
		}
	})
	return s.closeErr
}
