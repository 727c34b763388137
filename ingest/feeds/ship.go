package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/ingest/feeds/formats"
)

// ship streams the body's rows to Kafka and ods_feed_records, records the manifest and the usage
// log, and answers. The answer comes only after Kafka acknowledged every record and
// ods_feed_records accepted every raw row: 200 means the whole batch is stored.
func (g *Gateway) ship(ctx context.Context, w http.ResponseWriter, m Manifest, dc DatasetConfig, b *body) {
	st := &batchState{m: m, max: g.cfg.MaxRejections}
	usage := Usage{BatchID: m.BatchID, At: m.StartedAt, Source: m.Source, Dataset: m.Dataset, Action: m.Kind,
		Filename: m.Filename, RemoteAddr: m.RemoteAddr, Status: StatusRunning, Detail: usageDetail(m)}
	// The usage entry is written before any data moves, so no exchange goes unlogged.
	if err := g.deps.Store.LogUse(ctx, usage); err != nil {
		g.fail(w, g.internal("log use", err))
		return
	}
	g.prog.add(st)
	defer g.prog.done(m.BatchID)

	shipErr := g.stream(ctx, st, dc, b)

	st.update(func(m *Manifest) {
		m.FinishedAt = g.now().UTC().Truncate(time.Second)
		m.Status = StatusOK
		if shipErr != nil {
			m.Status, m.Error = StatusFailed, shipErr.Error()
		}
	})
	final := st.snapshot()
	g.m.rows.WithLabelValues(final.Dataset, "accepted").Add(float64(final.RowsAccepted))
	g.m.rows.WithLabelValues(final.Dataset, "rejected").Add(float64(final.RowsRejected))

	// Record the outcome even when the request's context ended.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	recErr := recordManifest(rctx, g.deps.Warehouse, final)
	usage.RowsIn, usage.RowsAccepted, usage.RowsRejected = final.RowsIn, final.RowsAccepted, final.RowsRejected
	usage.Status, usage.Detail = final.Status, usageDetail(final)
	recErr = errors.Join(recErr, g.deps.Store.FinishUse(rctx, usage))
	g.log.Info("feeds: batch", "batch", final.BatchID, "source", final.Source, "dataset", final.Dataset, "kind", final.Kind,
		"format", final.Format, "bytes", final.Bytes, "rows_in", final.RowsIn, "accepted", final.RowsAccepted,
		"rejected", final.RowsRejected, "status", final.Status, "remote", final.RemoteAddr)

	switch {
	case errors.Is(shipErr, formats.ErrFormat) || errors.Is(shipErr, errBodyRead):
		g.answer(w, final, http.StatusUnprocessableEntity, "bad_request")
	case shipErr != nil:
		g.log.Error("feeds: batch failed", "batch", final.BatchID, "err", shipErr)
		g.answer(w, final, http.StatusServiceUnavailable, "failed")
	case recErr != nil:
		g.log.Error("feeds: batch stored but its manifest was not recorded", "batch", final.BatchID, "err", recErr)
		final.Status, final.Error = StatusFailed, "the batch was stored but its manifest could not be recorded; send it again"
		g.answer(w, final, http.StatusServiceUnavailable, "failed")
	default:
		g.answer(w, final, http.StatusOK, "ok")
	}
}

// stream reads every row, ships the good ones and counts the rest. It returns the first error
// that stops the batch: an unreadable body (formats.ErrFormat), Kafka or ClickHouse.
func (g *Gateway) stream(ctx context.Context, st *batchState, dc DatasetConfig, b *body) error {
	rd, err := g.openReader(b)
	if err != nil {
		return err
	}
	defer rd.Close()
	st.update(func(m *Manifest) { m.Charset = rd.Charset() })
	m := st.snapshot()
	topic := g.deps.Topics.Feeds(m.Dataset)
	g.ensureTopic(ctx, topic)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		prodErr error
	)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			prodErr = cmpOr(prodErr, err)
			mu.Unlock()
		}
		wg.Done()
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return prodErr
	}
	received := time.Now().UTC()
	day := time.Date(received.Year(), received.Month(), received.Day(), 0, 0, 0, 0, time.UTC)
	// The body is read and encoded on another goroutine (readAhead), overlapping the produce and
	// the ods_feed_records write of the rows before; rows are shipped here in body order.
	stop := make(chan struct{})
	ahead := make(chan []shipRow, 4)
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		readAhead(rd, m, dc, received, stop, ahead)
	}()
	defer func() { // before rd.Close
		close(stop)
		for range ahead {
		}
		rwg.Wait()
	}()
	var loopErr error
rows:
	for batch := range ahead {
		for _, r := range batch {
			switch {
			case loopErr != nil:
				break rows
			case r.err != nil:
				loopErr = r.err
				continue
			case r.reject != "":
				st.reject(r.row, r.reject)
				continue
			}
			if err := failed(); err != nil {
				loopErr = fmt.Errorf("produce to %s: %w", topic, err)
				continue
			}
			wg.Add(1)
			g.deps.Producer.Produce(ctx, &kgo.Record{Topic: topic, Key: r.key, Value: r.value}, done)
			if err := g.ods.Write(ctx, day, received.Truncate(time.Second), m.BatchID, m.Source, m.Dataset, uint64(r.row), r.raw); err != nil {
				loopErr = fmt.Errorf("write ods_feed_records: %w", err)
				continue
			}
			st.accept()
		}
	}
	wg.Wait() // every callback runs: on success, failure or the context's end
	if err := failed(); err != nil {
		return errors.Join(loopErr, fmt.Errorf("produce to %s: %w", topic, err))
	}
	if loopErr != nil {
		return loopErr
	}
	if err := g.ods.Flush(ctx); err != nil {
		return fmt.Errorf("write ods_feed_records: %w", err)
	}
	return nil
}

// shipRow is one row of a body, read and encoded ahead of shipping: a row to ship (value, key,
// raw), a rejected row (reject), or the end of a body that stopped being readable (err).
type shipRow struct {
	row        int64
	value, key []byte
	raw        string
	reject     string
	err        error
}

// readAheadRows is how many rows readAhead hands over at a time.
const readAheadRows = 256

// readAhead reads and encodes the body's rows in order and sends them in batches to out, which it
// closes when the body ends, after a row with err, or once stop is closed. Rows of fixed columns
// (CSV) are encoded by a columnPlan, others by encode.
func readAhead(rd formats.Reader, m Manifest, dc DatasetConfig, received time.Time, stop <-chan struct{}, out chan<- []shipRow) {
	defer close(out)
	var (
		orders encodeOrders
		plan   *columnPlan
		mem    arena
	)
	cr, ok := rd.(formats.ColumnReader)
	if ok {
		plan = newColumnPlan(m, dc, cr.Columns(), received)
	}
	batch := make([]shipRow, 0, readAheadRows)
	send := func() bool {
		select {
		case out <- batch:
			batch = make([]shipRow, 0, readAheadRows)
			return true
		case <-stop:
			return false
		}
	}
	for {
		var (
			rec    formats.Record
			values []string
			err    error
		)
		if plan != nil {
			rec.Row, values, err = cr.NextValues()
		} else {
			rec, err = rd.Next()
		}
		var re *formats.RowError
		switch {
		case err == io.EOF:
			if len(batch) > 0 {
				send()
			}
			return
		case errors.As(err, &re):
			batch = append(batch, shipRow{row: re.Row, reject: re.Reason})
		case err != nil:
			batch = append(batch, shipRow{err: fmt.Errorf("%w: read %s body: %w", errBodyRead, m.Format, err)})
			send()
			return
		case plan != nil:
			value, key, raw := plan.encode(&mem, rec.Row, values)
			batch = append(batch, shipRow{row: rec.Row, value: value, key: key, raw: raw})
		default:
			value, key, raw, reason := encode(m, dc, rec, received, &orders)
			batch = append(batch, shipRow{row: rec.Row, value: value, key: key, raw: string(raw), reject: reason})
		}
		if len(batch) == readAheadRows && !send() {
			return
		}
	}
}

// errBodyRead marks a body that stopped being readable part way (a row longer than the limit, a
// broken gzip or Parquet page): the sender's fault, answered 422.
var errBodyRead = errors.New("body unreadable")

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (g *Gateway) openReader(b *body) (formats.Reader, error) {
	opts := formats.Options{Charset: b.charset, MaxRowBytes: g.cfg.MaxRowBytes}
	switch b.format {
	case formats.CSV:
		return formats.NewCSV(b.text, opts)
	case formats.JSONL:
		return formats.NewJSONL(b.text, opts)
	case formats.Parquet:
		return formats.NewParquet(b.file, b.size)
	case formats.Arrow:
		return formats.NewArrow(b.file, b.size)
	}
	return nil, fmt.Errorf("format %q: not readable", b.format)
}

// encodeOrders are the key orders one body's rows are encoded with (see keyOrder).
type encodeOrders struct{ raw, fields, unmapped keyOrder }

// encode maps rec through the dataset's mapping and returns the Kafka value and key and the raw
// JSON for ods_feed_records, or the reason the row cannot be shipped.
func encode(m Manifest, dc DatasetConfig, rec formats.Record, received time.Time, o *encodeOrders) (value, key, raw []byte, reason string) {
	raw, err := appendObject(make([]byte, 0, 512), rec.Fields, &o.raw)
	if err != nil {
		return nil, nil, nil, "a value cannot be written as JSON: " + err.Error()
	}
	fr := feedrecord.Record{BatchID: m.BatchID, Source: m.Source, SourceKind: m.SourceKind, Dataset: m.Dataset, Row: rec.Row,
		StandardVersion: m.StandardVersion, ReceivedAt: received}
	if len(dc.Mapping) == 0 {
		fr.Fields = rec.Fields
	} else {
		fr.Fields = make(map[string]any, len(dc.Mapping))
		for col, v := range rec.Fields {
			if field, ok := dc.Mapping[col]; ok {
				fr.Fields[field] = v
			} else {
				if fr.Unmapped == nil {
					fr.Unmapped = map[string]any{}
				}
				fr.Unmapped[col] = v
			}
		}
	}
	value, err = appendRecord(make([]byte, 0, len(raw)+256), &fr, &o.fields, &o.unmapped)
	if err != nil {
		return nil, nil, nil, "a value cannot be written as JSON: " + err.Error()
	}
	key = []byte(m.Source + "|" + m.BatchID + "|" + strconv.FormatInt(rec.Row, 10))
	if dc.KeyField != "" {
		if v, ok := fr.Fields[dc.KeyField]; ok && v != nil {
			if s := fmt.Sprint(v); s != "" {
				// Hashed: the key is often a resident ID, which must not travel in clear in the key.
				sum := sha256.Sum256([]byte(s))
				key = []byte(m.Source + "|" + hex.EncodeToString(sum[:16]))
			}
		}
	}
	return value, key, raw, ""
}
