package warehouse

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
)

// Flush inserts every buffered row now, retrying a failed insert up to MaxRetries times with
// backoff. The rows stay buffered until the server has accepted them; after the last retry the
// error is returned and the rows are kept for the next Flush. One flush runs at a time; Writes go
// on meanwhile into a new buffer. Rows whose values the column types refuse are handed to OnReject
// (see BatchConfig), not retried.
func (w *BatchWriter) Flush(ctx context.Context) error { return w.flush(ctx, false) }

// flush is Flush; with onlyIfDue (the background flusher) it flushes only if the buffer is still
// due once the flush's turn has come: a flush that waited for another may find a buffer that
// the other emptied and Writes began to refill.
func (w *BatchWriter) flush(ctx context.Context, onlyIfDue bool) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("flush %s: %w", w.cfg.Table, ctx.Err())
	}
	defer func() { <-w.sem }()
	if onlyIfDue {
		if due, ok := w.due(); !ok || time.Now().Before(due) {
			return nil
		}
	}

	w.mu.Lock()
	if len(w.buf) == 0 {
		w.mu.Unlock()
		return nil
	}
	rows, oldest := w.buf, w.oldest
	w.buf, w.spare = w.spare, nil
	w.mu.Unlock()
	start := time.Now()
	sent, kept, err := w.send(ctx, rows)
	if err != nil {
		w.mu.Lock()
		if len(w.buf) == 0 || oldest.Before(w.oldest) {
			w.oldest = oldest
		}
		w.buf = append(kept, w.buf...)
		n := len(w.buf)
		w.mu.Unlock()
		w.m.failed(n)
		return fmt.Errorf("flush %d rows to %s: %w", len(kept), w.cfg.Table, err)
	}
	took := time.Since(start)
	clear(rows) // the rows are the server's now: keep only the slice, for the next flush
	w.mu.Lock()
	w.spare = rows[:0]
	n := len(w.buf)
	w.mu.Unlock()
	w.m.sent(sent, took, n)
	return nil
}

// send inserts rows, retrying. It returns how many it inserted, or the rows still to insert
// (without rejected ones) and the last error.
func (w *BatchWriter) send(ctx context.Context, rows [][]any) (int, [][]any, error) {
	backoff := w.cfg.Backoff
	for attempt := 0; ; attempt++ {
		var err error
		var sent int
		rows, sent, err = w.sendOnce(ctx, rows)
		if err == nil {
			return sent, nil, nil
		}
		if ctx.Err() != nil {
			return 0, rows, err
		}
		if attempt >= w.cfg.MaxRetries {
			return 0, rows, fmt.Errorf("gave up after %d retries: %w", attempt, err)
		}
		w.m.retried()
		wait := backoff/2 + mrand.N(backoff/2+1)
		w.log.Warn("insert failed; retrying", "rows", len(rows), "attempt", attempt+1, "wait", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return 0, rows, fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		backoff = min(2*backoff, w.cfg.MaxBackoff)
	}
}

// sendOnce makes one insert of rows. A row whose values do not fit the column types is rejected
// (OnReject) and the insert rebuilt without it; the rest are checked client-side at that point, so
// a batch with bad rows costs one extra round trip. It returns the rows still to be sent: all of
// them on error, none on success.
func (w *BatchWriter) sendOnce(ctx context.Context, rows [][]any) (remaining [][]any, sent int, err error) {
	for len(rows) > 0 {
		b, err := w.conn.PrepareBatch(ctx, w.insert)
		if err != nil {
			return rows, 0, err
		}
		// One block per insert. The server keeps the blocks of an INSERT it received before the
		// client went away (measured on 18.16: a connection dropped after the second of several
		// blocks left those rows in the table), so an insert sent in several blocks could leave
		// part of a failed flush behind, and its retry would insert that part again.
		cols := b.Columns()
		failed, appendErr := -1, error(nil)
		for i, r := range rows {
			if appendErr = b.Append(r...); appendErr != nil {
				failed = i
				break
			}
		}
		if failed < 0 {
			if err := b.Send(); err != nil {
				return rows, 0, err
			}
			return nil, len(rows), nil
		}
		_ = b.Abort() // nothing of this insert is kept: it never ends
		types := make([]column.Type, len(cols))
		for j, c := range cols {
			types[j] = c.Type()
		}
		var bad [][]any
		rows, bad = w.partition(types, rows, failed)
		w.reject(bad, appendErr)
	}
	return nil, 0, nil
}

// partition splits rows into those the column types accept and those they refuse, knowing that
// rows[:failed] were accepted and rows[failed] was not. It checks the rest against fresh
// client-side columns, which costs no round trip; if it cannot build them, the rest count as good
// and the next insert finds any bad one.
func (w *BatchWriter) partition(types []column.Type, rows [][]any, failed int) (good, bad [][]any) {
	good = append(good, rows[:failed]...)
	bad = append(bad, rows[failed])
	rest := rows[failed+1:]
	if len(types) != len(w.cfg.Columns) {
		return append(good, rest...), bad
	}
	cols := make([]column.Interface, len(types))
	for j, t := range types {
		c, err := t.Column(w.cfg.Columns[j], &column.ServerContext{Timezone: time.UTC})
		if err != nil {
			return append(good, rest...), bad
		}
		cols[j] = c
	}
	for _, r := range rest {
		ok := true
		for j, v := range r {
			if cols[j].AppendRow(v) != nil {
				ok = false
				break
			}
		}
		if ok {
			good = append(good, r)
		} else {
			bad = append(bad, r)
		}
	}
	return good, bad
}

// ErrRowRejected wraps the error given to OnReject.
var ErrRowRejected = errors.New("row rejected by the column types")

func (w *BatchWriter) reject(rows [][]any, first error) {
	if len(rows) == 0 {
		return
	}
	w.m.rejected(len(rows))
	err := fmt.Errorf("%d rows for %s: %w: %w", len(rows), w.cfg.Table, ErrRowRejected, first)
	if w.cfg.OnReject != nil {
		w.cfg.OnReject(rows, err)
		return
	}
	w.log.Error("rows rejected and not inserted", "rows", len(rows), "first_row", fmt.Sprint(rows[0]), "err", err)
}
