package feeds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
)

// CheckNonce records (source, nonce) in the metadata store and returns a *signature.Error naming
// X-CityPulse-Nonce when it was already there: a replay, possibly sent to another replica. Every
// purgeEvery calls it also forgets nonces older than olderThan.
func (st *Store) CheckNonce(ctx context.Context, p signature.Params) error {
	_, err := st.ms.DB().ExecContext(ctx, `INSERT INTO feed_nonces (source_id, nonce, ts) VALUES ($1, $2, $3)`, p.Source, p.Nonce, p.Timestamp)
	if err == nil {
		return nil
	}
	// A unique violation reads differently per driver: ask whether the nonce is there.
	var n int
	if qerr := st.ms.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM feed_nonces WHERE source_id = $1 AND nonce = $2`, p.Source, p.Nonce).Scan(&n); qerr == nil && n > 0 {
		return &signature.Error{Header: signature.HeaderNonce, Reason: fmt.Sprintf("already used by source %q within the replay window (a replayed request)", p.Source)}
	}
	return fmt.Errorf("record nonce of source %s: %w", p.Source, err)
}

// PurgeNonces forgets the nonces of requests signed before cutoff (the replay window refuses
// them anyway) and returns how many.
func (st *Store) PurgeNonces(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := st.ms.DB().ExecContext(ctx, `DELETE FROM feed_nonces WHERE ts < $1`, cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("purge feed nonces: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Usage is one entry of the usage log of exchanged data: a batch a source sent.
type Usage struct {
	BatchID      string    `json:"batch_id"`
	At           time.Time `json:"at"`
	Source       string    `json:"source"`
	Dataset      string    `json:"dataset"`
	Action       string    `json:"action"` // push | upload
	Filename     string    `json:"filename,omitempty"`
	RemoteAddr   string    `json:"remote_addr"`
	RowsIn       int64     `json:"rows_in"`
	RowsAccepted int64     `json:"rows_accepted"`
	RowsRejected int64     `json:"rows_rejected"`
	Status       string    `json:"status"`
	Detail       string    `json:"detail,omitempty"`
}

// LogUse appends u to the usage log.
func (st *Store) LogUse(ctx context.Context, u Usage) error {
	_, err := st.ms.DB().ExecContext(ctx, `INSERT INTO feed_usage_log (batch_id, at, source_id, dataset, action, filename, remote_addr, rows_in, rows_accepted, rows_rejected, status, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		u.BatchID, u.At.Unix(), u.Source, u.Dataset, u.Action, u.Filename, u.RemoteAddr, u.RowsIn, u.RowsAccepted, u.RowsRejected, u.Status, u.Detail)
	if err != nil {
		return fmt.Errorf("log use of batch %s: %w", u.BatchID, err)
	}
	return nil
}

// UsageLog returns the newest entries of source ("" for all sources), at most limit.
func (st *Store) UsageLog(ctx context.Context, source string, limit int) ([]Usage, error) {
	if limit <= 0 {
		return nil, errors.New("usage log: limit must be positive")
	}
	rows, err := st.ms.DB().QueryContext(ctx, `SELECT batch_id, at, source_id, dataset, action, filename, remote_addr, rows_in, rows_accepted, rows_rejected, status, detail
FROM feed_usage_log WHERE $1 = '' OR source_id = $1 ORDER BY at DESC, batch_id DESC LIMIT $2`, source, limit)
	if err != nil {
		return nil, fmt.Errorf("read usage log: %w", err)
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var u Usage
		var at int64
		if err := rows.Scan(&u.BatchID, &at, &u.Source, &u.Dataset, &u.Action, &u.Filename, &u.RemoteAddr, &u.RowsIn, &u.RowsAccepted, &u.RowsRejected, &u.Status, &u.Detail); err != nil {
			return nil, fmt.Errorf("read usage log: %w", err)
		}
		u.At = time.Unix(at, 0)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage log: %w", err)
	}
	return out, nil
}

// FinishUse records the outcome of a batch whose entry LogUse wrote when it started.
func (st *Store) FinishUse(ctx context.Context, u Usage) error {
	_, err := st.ms.DB().ExecContext(ctx, `UPDATE feed_usage_log SET rows_in = $1, rows_accepted = $2, rows_rejected = $3, status = $4, detail = $5 WHERE batch_id = $6`,
		u.RowsIn, u.RowsAccepted, u.RowsRejected, u.Status, u.Detail, u.BatchID)
	if err != nil {
		return fmt.Errorf("log outcome of batch %s: %w", u.BatchID, err)
	}
	return nil
}
