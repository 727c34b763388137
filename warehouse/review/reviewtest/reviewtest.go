// Package reviewtest stages rows in a test warehouse the way the cleaning pipeline does
// (ods_staged_rows), so the review and apiserver tests can exercise change requests and
// reference comparisons without running the pipeline. Only tests import it; it writes only to
// the connection it is given.
package reviewtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Row is one staged row. Values maps dwd column names to a string, nil (NULL) or a []string
// (quality_flags); ID is derived from dataset, source, batch and row number when empty.
type Row struct {
	Purpose     string // "change" or "reference"
	Dataset     string
	ID          string
	IdentityKey string
	RegionCode  string
	Source      string
	BatchID     string
	RowNo       uint64
	Values      map[string]any
	ReceivedAt  time.Time
}

// RequestID is the id a row gets when Row.ID is empty: hex SHA-256 of dataset|source|batch|row
// (the pipeline keys it with an HMAC; tests need only a stable hex id).
func RequestID(dataset, source, batch string, rowNo uint64) string {
	b, _ := json.Marshal([]any{dataset, source, batch, rowNo})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const insertSQL = `INSERT INTO ods_staged_rows (purpose, dataset, request_id, identity_key, region_code, source, batch_id, row_no, row, received_at, version)`

// Stage inserts rows into ods_staged_rows (migration 0007) and returns their request ids.
func Stage(t testing.TB, conn driver.Conn, rows ...Row) []string {
	t.Helper()
	ctx := context.Background()
	batch, err := conn.PrepareBatch(ctx, insertSQL)
	if err != nil {
		t.Fatalf("prepare staged insert: %v", err)
	}
	defer func() { _ = batch.Close() }()
	ids := make([]string, len(rows))
	for i, r := range rows {
		if r.ID == "" {
			r.ID = RequestID(r.Dataset, r.Source, r.BatchID, r.RowNo)
		}
		if r.ReceivedAt.IsZero() {
			r.ReceivedAt = time.Now()
		}
		r.ReceivedAt = r.ReceivedAt.Truncate(time.Second)
		js, err := json.Marshal(r.Values)
		if err != nil {
			t.Fatalf("staged row %d: %v", i, err)
		}
		if err := batch.Append(r.Purpose, r.Dataset, r.ID, r.IdentityKey, r.RegionCode, r.Source, r.BatchID,
			r.RowNo, string(js), r.ReceivedAt, uint64(r.ReceivedAt.UnixMilli())); err != nil {
			t.Fatalf("staged row %d: %v", i, err)
		}
		ids[i] = r.ID
	}
	if err := batch.Send(); err != nil {
		t.Fatalf("insert staged rows: %v", err)
	}
	return ids
}
