package review

import (
	"context"
	"fmt"
	"time"
)

// Kinds of change request.
const (
	KindMoveIn  = "move_in"  // no current dwd row has the identity
	KindMoveOut = "move_out" // the proposed row closes the relation
	KindUpdate  = "update"   // anything else
)

// Statuses of a change request.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// FieldDiff is one column whose proposed (or reference) value differs from the current dwd
// row's. Values are canonical texts (Date YYYY-MM-DD, DateTime "YYYY-MM-DD HH:MM:SS" China
// Standard Time, numbers in plain decimal); nil is NULL, or no current row at all.
type FieldDiff struct {
	Column   string  `json:"column"`
	Current  *string `json:"current"`
	Proposed *string `json:"proposed"`
}

// Request is one change request: a department's row staged for review.
type Request struct {
	ID          string    `json:"id"`
	Dataset     string    `json:"dataset"`
	IdentityKey string    `json:"identity_key"`
	RegionCode  string    `json:"region_code"`
	Source      string    `json:"source"`
	BatchID     string    `json:"batch_id"`
	RowNo       uint64    `json:"row_no"`
	ReceivedAt  time.Time `json:"received_at"`
	// Kind is move_in, move_out or update: as of now for a pending request, as of the decision
	// for a decided one.
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// Diff lists the columns the request changes, against the current dwd row (every column
	// with a value, for a move_in). Lineage columns and identity_key are left out.
	Diff []FieldDiff `json:"diff"`
	// Proposed is the whole row the request would write (lineage included, version excluded).
	Proposed map[string]*string `json:"proposed"`
	// Decision is set once the request is decided.
	Decision *Decision `json:"decision,omitempty"`
	// Problem says why the staged row cannot be shown or approved (it can still be rejected).
	Problem string `json:"problem,omitempty"`
}

// ListQuery selects pending change requests. Every field is optional.
type ListQuery struct {
	// Dataset limits the list to one dataset (e.g. person_house).
	Dataset string
	// Region is a region code prefix (4 digits: city, 6: district, 9: street, 12: community).
	Region string
	// From and To bound the receive time: From ≤ received_at < To; zero is open.
	From, To time.Time
	// After is the Next of the previous page.
	After string
	// Limit is the page size: 0 means DefaultLimit; at most MaxLimit.
	Limit int
}

// Page is one page of pending change requests, oldest received first.
type Page struct {
	// Total counts the pending requests matching the query's filters, on every page.
	Total    uint64    `json:"total"`
	Requests []Request `json:"requests"`
	// Next is the After of the following page; "" on the last.
	Next string `json:"next"`
}

const pendingScope = ` FROM ods_staged_rows FINAL`

const notDecided = `request_id NOT IN (SELECT request_id FROM ods_change_decisions)`

// List returns one page of pending change requests with their kinds and diffs.
func (s *Service) List(ctx context.Context, q ListQuery) (*Page, error) {
	limit, err := checkLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	f := stagedFilter{}
	f.add(`purpose = ?`, purposeChange)
	if q.Dataset != "" {
		if !validDataset(q.Dataset) {
			return nil, invalid("dataset", "%q: want a dataset name (lowercase letters, digits and _)", truncate(q.Dataset, 40))
		}
		f.add(`dataset = ?`, q.Dataset)
	}
	if q.Region != "" {
		if !validPrefix(q.Region) {
			return nil, invalid("region", "%q: want a region code prefix of 1 to 12 digits", truncate(q.Region, 40))
		}
		f.add(`startsWith(region_code, ?)`, q.Region)
	}
	if !q.From.IsZero() {
		f.add(`received_at >= toDateTime(?)`, q.From.Unix())
	}
	if !q.To.IsZero() {
		f.add(`received_at < toDateTime(?)`, q.To.Unix())
	}
	f.add(notDecided)
	page := &Page{Requests: []Request{}}
	if err := s.conn.QueryRow(ctx, `SELECT count()`+pendingScope+f.where(), f.args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("count pending change requests: %w", err)
	}
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return nil, invalid("after", "%v", err)
		}
		f.add(`(received_at > toDateTime(?) OR (received_at = toDateTime(?) AND request_id > ?))`, c.At, c.At, c.ID)
	}
	sql := `SELECT ` + stagedColumns + pendingScope + f.where() + ` ORDER BY received_at, request_id LIMIT ?`
	rows, err := s.conn.Query(ctx, sql, append(f.args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list pending change requests: %w", err)
	}
	defer rows.Close()
	var list []staged
	for rows.Next() {
		var st staged
		if err := st.scan(rows); err != nil {
			return nil, fmt.Errorf("list pending change requests: %w", err)
		}
		list = append(list, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pending change requests: %w", err)
	}
	rows.Close()
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		page.Next = cursor{At: last.ReceivedAt.Unix(), ID: last.RequestID}.String()
	}
	if page.Requests, err = s.describe(ctx, list); err != nil {
		return nil, err
	}
	for i := range page.Requests {
		page.Requests[i].Status = StatusPending
	}
	return page, nil
}

// Get returns one change request, pending or decided.
func (s *Service) Get(ctx context.Context, id string) (*Request, error) {
	st, err := s.staged(ctx, id)
	if err != nil {
		return nil, err
	}
	reqs, err := s.describe(ctx, []staged{*st})
	if err != nil {
		return nil, err
	}
	r := reqs[0]
	r.Status = StatusPending
	d, err := s.decision(ctx, id)
	if err != nil {
		return nil, err
	}
	if d != nil {
		r.Status, r.Kind, r.Decision = d.Decision, d.Kind, d
	}
	return &r, nil
}

// staged reads the change request's staged row.
func (s *Service) staged(ctx context.Context, id string) (*staged, error) {
	if !validID(id) {
		return nil, invalid("id", "%q: want a change request id (hex)", truncate(id, 80))
	}
	rows, err := s.conn.Query(ctx, `SELECT `+stagedColumns+pendingScope+` WHERE purpose = ? AND request_id = ? LIMIT 1`, purposeChange, id)
	if err != nil {
		return nil, fmt.Errorf("read change request %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read change request %s: %w", id, err)
		}
		return nil, fmt.Errorf("change request %s: %w", id, ErrNotFound)
	}
	var st staged
	if err := st.scan(rows); err != nil {
		return nil, fmt.Errorf("read change request %s: %w", id, err)
	}
	return &st, nil
}

// describe turns staged rows into requests with kinds and diffs against the current dwd rows. A
// row that cannot be read (an unknown dataset, a broken row) gets a Problem instead.
func (s *Service) describe(ctx context.Context, list []staged) ([]Request, error) {
	byDataset := map[string][]int{}
	for i, st := range list {
		byDataset[st.Dataset] = append(byDataset[st.Dataset], i)
	}
	out := make([]Request, len(list))
	for i, st := range list {
		out[i] = Request{ID: st.RequestID, Dataset: st.Dataset, IdentityKey: st.IdentityKey, RegionCode: st.RegionCode,
			Source: st.Source, BatchID: st.BatchID, RowNo: st.RowNo, ReceivedAt: st.ReceivedAt, Diff: []FieldDiff{}}
	}
	for dataset, idx := range byDataset {
		t, err := loadTable(ctx, s.conn, dataset, "dataset")
		if err != nil {
			for _, i := range idx {
				out[i].Problem = err.Error()
			}
			continue
		}
		ids := make([]string, len(idx))
		for k, i := range idx {
			ids[k] = list[i].IdentityKey
		}
		cur, err := currentRows(ctx, s.conn, t, ids)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			prop, err := list[i].proposed(t)
			if err != nil {
				out[i].Problem = err.Error()
				continue
			}
			c := cur[list[i].IdentityKey]
			out[i].Proposed = prop
			out[i].Kind = s.kind(dataset, c, prop)
			out[i].Diff = diff(t, c, prop)
		}
	}
	return out, nil
}

// kind classifies a change: move_out when it sets a closing column the current row has not set,
// move_in when there is no current row, update otherwise.
func (s *Service) kind(dataset string, current, proposed map[string]*string) string {
	for _, col := range s.closing[dataset] {
		if isSet(proposed[col]) && (current == nil || !isSet(current[col])) {
			return KindMoveOut
		}
	}
	if current == nil {
		return KindMoveIn
	}
	return KindUpdate
}

// isSet: a value other than NULL, "" and the Date/DateTime defaults.
func isSet(p *string) bool {
	return p != nil && *p != "" && *p != "1970-01-01" && *p != "1970-01-01 08:00:00"
}

// diff lists the compared columns whose values differ; with no current row, every column the
// proposal sets.
func diff(t *table, current, proposed map[string]*string) []FieldDiff {
	out := []FieldDiff{}
	for _, c := range t.Columns {
		if notCompared[c.Name] {
			continue
		}
		p := proposed[c.Name]
		if current == nil {
			if p != nil {
				out = append(out, FieldDiff{Column: c.Name, Proposed: p})
			}
			continue
		}
		if cur := current[c.Name]; !equalText(cur, p) {
			out = append(out, FieldDiff{Column: c.Name, Current: cur, Proposed: p})
		}
	}
	return out
}

func equalText(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func checkLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, invalid("limit", "%d: want 1 to %d", n, MaxLimit)
	}
	return n, nil
}

// validPrefix: 1 to 12 digits.
func validPrefix(s string) bool {
	if len(s) == 0 || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validID: a request id is lowercase hex, at most 128 characters.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
