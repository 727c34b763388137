package feeds

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Batch statuses.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusFailed  = "failed"
)

// Rejection is a row the gateway itself could not read.
type Rejection struct {
	Row    int64  `json:"row"`
	Reason string `json:"reason"`
}

// Manifest describes one batch: the answer to a push or upload, the row of ods_feed_batches and
// what GET /v1/feeds/batches/{id} shows while the batch runs.
type Manifest struct {
	BatchID         string      `json:"batch_id"`
	Source          string      `json:"source"`
	SourceKind      string      `json:"source_kind,omitempty"`
	Dataset         string      `json:"dataset"`
	Kind            string      `json:"kind"` // push | upload
	Filename        string      `json:"filename,omitempty"`
	Format          string      `json:"format"`
	Charset         string      `json:"charset,omitempty"`
	StandardVersion string      `json:"standard_version,omitempty"`
	ContentSHA256   string      `json:"content_sha256"`
	Bytes           int64       `json:"bytes"`
	RowsIn          int64       `json:"rows_in"`
	RowsAccepted    int64       `json:"rows_accepted"`
	RowsRejected    int64       `json:"rows_rejected"`
	Rejections      []Rejection `json:"rejections,omitempty"`
	Status          string      `json:"status"`
	Error           string      `json:"error,omitempty"`
	RemoteAddr      string      `json:"-"`
	StartedAt       time.Time   `json:"started_at"`
	FinishedAt      time.Time   `json:"finished_at,omitzero"`
}

// batchState is a running batch's manifest, readable while it changes.
type batchState struct {
	mu  sync.Mutex
	m   Manifest
	max int // rejections listed
}

func (b *batchState) snapshot() Manifest {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.m
	m.Rejections = append([]Rejection(nil), b.m.Rejections...)
	return m
}

func (b *batchState) update(fn func(m *Manifest)) {
	b.mu.Lock()
	fn(&b.m)
	b.mu.Unlock()
}

func (b *batchState) accept() {
	b.mu.Lock()
	b.m.RowsIn++
	b.m.RowsAccepted++
	b.mu.Unlock()
}

func (b *batchState) reject(row int64, reason string) {
	b.mu.Lock()
	b.m.RowsIn++
	b.m.RowsRejected++
	if len(b.m.Rejections) < b.max {
		b.m.Rejections = append(b.m.Rejections, Rejection{Row: row, Reason: reason})
	}
	b.mu.Unlock()
}

// progress keeps the running batches and the last finished ones, for the progress endpoint.
type progress struct {
	mu       sync.Mutex
	byID     map[string]*batchState
	finished []string // oldest first, bounded by keep
	keep     int
}

func newProgress(keep int) *progress {
	return &progress{byID: map[string]*batchState{}, keep: keep}
}

func (p *progress) add(b *batchState) {
	p.mu.Lock()
	p.byID[b.m.BatchID] = b
	p.mu.Unlock()
}

func (p *progress) done(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = append(p.finished, id)
	for len(p.finished) > p.keep {
		delete(p.byID, p.finished[0])
		p.finished = p.finished[1:]
	}
}

func (p *progress) get(id string) (*batchState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.byID[id]
	return b, ok
}

// newBatchID is a ULID: 48 bits of Unix milliseconds then 80 random bits, in Crockford base32,
// so ids sort by time.
func newBatchID(now time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	// 128 bits → 26 characters of 5 bits (the first holds 3).
	var out [26]byte
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

const insertBatch = `INSERT INTO ods_feed_batches (received_date, batch_id, source, dataset, kind, filename, format, charset,
 standard_version, content_sha256, bytes, rows_in, rows_accepted, rows_rejected, rejections, status, error, remote_addr,
 started_at, finished_at)`

// recordManifest writes m to ods_feed_batches.
func recordManifest(ctx context.Context, conn driver.Conn, m Manifest) error {
	b, err := conn.PrepareBatch(ctx, insertBatch)
	if err != nil {
		return fmt.Errorf("record manifest of batch %s: %w", m.BatchID, err)
	}
	rej := make([]string, len(m.Rejections))
	for i, r := range m.Rejections {
		rej[i] = fmt.Sprintf("row %d: %s", r.Row, r.Reason)
	}
	day := time.Date(m.StartedAt.Year(), m.StartedAt.Month(), m.StartedAt.Day(), 0, 0, 0, 0, time.UTC)
	if err := b.Append(day, m.BatchID, m.Source, m.Dataset, m.Kind, m.Filename, m.Format, m.Charset,
		m.StandardVersion, m.ContentSHA256, uint64(m.Bytes), uint64(m.RowsIn), uint64(m.RowsAccepted), uint64(m.RowsRejected),
		rej, m.Status, m.Error, m.RemoteAddr, m.StartedAt, m.FinishedAt); err != nil {
		_ = b.Abort()
		return fmt.Errorf("record manifest of batch %s: %w", m.BatchID, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record manifest of batch %s: %w", m.BatchID, err)
	}
	return nil
}

// usageDetail summarises a manifest for the usage log.
func usageDetail(m Manifest) string {
	var parts []string
	if m.Format != "" {
		parts = append(parts, "format="+m.Format)
	}
	if m.Charset != "" {
		parts = append(parts, "charset="+m.Charset)
	}
	parts = append(parts, fmt.Sprintf("bytes=%d", m.Bytes), "sha256="+m.ContentSHA256)
	if m.Error != "" {
		parts = append(parts, "error="+m.Error)
	}
	return strings.Join(parts, " ")
}
