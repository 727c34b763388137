package review

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Purposes of ods_staged_rows.
const (
	purposeChange    = "change"
	purposeReference = "reference"
)

// staged is one row of ods_staged_rows.
type staged struct {
	RequestID   string
	Dataset     string
	IdentityKey string
	RegionCode  string
	Source      string
	BatchID     string
	RowNo       uint64
	Row         string
	ReceivedAt  time.Time
	Version     uint64
}

// stagedColumns are read in this order by scan.
const stagedColumns = `request_id, dataset, identity_key, region_code, source, batch_id, row_no, row, received_at, version`

func (s *staged) scan(rows driver.Rows) error {
	return rows.Scan(&s.RequestID, &s.Dataset, &s.IdentityKey, &s.RegionCode, &s.Source, &s.BatchID,
		&s.RowNo, &s.Row, &s.ReceivedAt, &s.Version)
}

// values decodes the staged row's JSON object: column name → value.
func (s *staged) values() (map[string]stagedValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s.Row), &raw); err != nil {
		return nil, fmt.Errorf("staged row %s: not a JSON object: %w", s.RequestID, err)
	}
	out := make(map[string]stagedValue, len(raw))
	for k, v := range raw {
		sv, err := decodeStaged(v)
		if err != nil {
			return nil, fmt.Errorf("staged row %s, column %s: %w", s.RequestID, k, err)
		}
		out[k] = sv
	}
	return out, nil
}

// proposed is the staged row as the dwd table would hold it: canonical texts by column. The
// staged identity_key wins over the row's own (they are equal when the pipeline is right), and a
// column the row lacks gets the column's default.
func (s *staged) proposed(t *table) (map[string]*string, error) {
	vals, err := s.values()
	if err != nil {
		return nil, err
	}
	if id, ok := vals[colIdentity]; ok && !id.null && id.str != s.IdentityKey {
		return nil, fmt.Errorf("staged row %s: identity_key %q in the row differs from the staged %q", s.RequestID, id.str, s.IdentityKey)
	}
	out := make(map[string]*string, len(t.Columns))
	for _, c := range t.Columns {
		var sv stagedValue
		switch c.Name {
		case colIdentity:
			sv = stagedValue{str: s.IdentityKey}
		case colReceivedAt:
			sv = stagedValue{str: s.ReceivedAt.In(cst).Format(time.DateTime)}
		case colVersion:
			continue
		default:
			var ok bool
			if sv, ok = vals[c.Name]; !ok {
				sv = stagedValue{null: true}
			}
		}
		txt, err := c.canonical(sv)
		if err != nil {
			return nil, fmt.Errorf("staged row %s: %w", s.RequestID, err)
		}
		out[c.Name] = txt
	}
	return out, nil
}

// insertValues are the values of an approved row for t's columns, in order: the staged row's,
// with received_at from the staged row and the given version.
func (s *staged) insertValues(t *table, version uint64) ([]any, error) {
	vals, err := s.values()
	if err != nil {
		return nil, err
	}
	out := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		switch c.Name {
		case colIdentity:
			out[i] = s.IdentityKey
			continue
		case colReceivedAt:
			out[i] = s.ReceivedAt
			continue
		case colVersion:
			out[i] = version
			continue
		}
		sv, ok := vals[c.Name]
		if !ok {
			sv = stagedValue{null: true}
		}
		if out[i], err = c.value(sv); err != nil {
			return nil, fmt.Errorf("staged row %s: %w", s.RequestID, err)
		}
	}
	return out, nil
}

// stagedFilter builds the WHERE clause of a staged-rows query.
type stagedFilter struct {
	conds []string
	args  []any
}

func (f *stagedFilter) add(cond string, args ...any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, args...)
}

func (f *stagedFilter) where() string { return " WHERE " + strings.Join(f.conds, " AND ") }

// currentRows reads the current dwd rows (FINAL) of the identities, by identity key.
func currentRows(ctx context.Context, conn driver.Conn, t *table, ids []string) (map[string]map[string]*string, error) {
	out := map[string]map[string]*string{}
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT ` + t.selectList() + ` FROM ` + quoteTable(t.Name) + ` FINAL WHERE identity_key IN ?`
	rows, err := conn.Query(ctx, q, groupSet(ids))
	if err != nil {
		return nil, fmt.Errorf("read current rows of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := t.scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("read current rows of %s: %w", t.Name, err)
		}
		if id := r[colIdentity]; id != nil {
			out[*id] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read current rows of %s: %w", t.Name, err)
	}
	return out, nil
}
