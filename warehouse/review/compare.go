package review

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Outcomes of comparing one identity.
const (
	CompareSame               = "same"
	CompareDiffers            = "differs"
	CompareMissingInDWD       = "missing_in_dwd"
	CompareMissingInReference = "missing_in_reference"
)

// CompareQuery selects a reference feed and what to list of its comparison with dwd_<Dataset>.
type CompareQuery struct {
	// Dataset is required (e.g. person).
	Dataset string
	// Batch and Source select the reference rows (ods_staged_rows, purpose 'reference'): one
	// batch, every batch of a source (the newest row per identity), or both. One is required.
	Batch  string
	Source string
	// Region, a region code prefix, scopes both sides: reference rows of the region, and dwd rows
	// of the region or of an identity in the reference.
	Region string
	// MissingFromReference also counts and lists the dwd records (of Region) that the reference
	// lacks. It reads the whole (region's) dwd table.
	MissingFromReference bool
	// Status lists only rows of one outcome (differs, missing_in_dwd, missing_in_reference);
	// "" lists all three. Counts cover every outcome either way.
	Status string
	// After is the Next of the previous page (an identity key).
	After string
	// Limit is the page size: 0 means DefaultLimit; at most MaxLimit.
	Limit int
}

// Comparison is a reference feed compared with dwd: counts over the whole selection, and one
// page of the records that are not the same, in identity-key order.
type Comparison struct {
	Dataset string `json:"dataset"`
	Batch   string `json:"batch"`
	Source  string `json:"source"`
	Region  string `json:"region"`
	// Reference counts the distinct identities of the reference; it is Same + Differs +
	// MissingInDWD.
	Reference    uint64 `json:"reference_records"`
	Same         uint64 `json:"same"`
	Differs      uint64 `json:"differs"`
	MissingInDWD uint64 `json:"missing_in_dwd"`
	// MissingInReference is nil unless the query asked for it.
	MissingInReference *uint64      `json:"missing_in_reference"`
	Rows               []CompareRow `json:"rows"`
	// Next is the After of the following page; "" on the last.
	Next string `json:"next"`
}

// CompareRow is one identity whose records differ or exist on one side only.
type CompareRow struct {
	IdentityKey string `json:"identity_key"`
	Status      string `json:"status"`
	RegionCode  string `json:"region_code"`
	// Diff (differs) lists the differing columns, lineage and identity_key left out.
	Diff []CompareDiff `json:"diff,omitempty"`
	// Reference (differs, missing_in_dwd) is the reference record as dwd would hold it, and
	// where it came from.
	Reference      map[string]*string `json:"reference,omitempty"`
	ReferenceBatch string             `json:"reference_batch,omitempty"`
	ReferenceRowNo uint64             `json:"reference_row_no,omitempty"`
	// Current (missing_in_reference) is the dwd record.
	Current map[string]*string `json:"current,omitempty"`
}

// CompareDiff is one column whose dwd value (Current) differs from the reference's.
type CompareDiff struct {
	Column    string  `json:"column"`
	Current   *string `json:"current"`
	Reference *string `json:"reference"`
}

// Compare compares a reference feed with the dataset's dwd table. It streams both sides in
// identity-key order and joins them in Go, so memory stays flat whatever their size.
func (s *Service) Compare(ctx context.Context, q CompareQuery) (*Comparison, error) {
	limit, err := checkLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Batch == "" && q.Source == "":
		return nil, invalid("batch", "give the reference batch id (batch) or the reference source (source)")
	case len(q.Batch) > 256:
		return nil, invalid("batch", "want at most 256 bytes")
	case len(q.Source) > 256:
		return nil, invalid("source", "want at most 256 bytes")
	case q.Region != "" && !validPrefix(q.Region):
		return nil, invalid("region", "%q: want a region code prefix of 1 to 12 digits", truncate(q.Region, 40))
	case len(q.After) > 256:
		return nil, invalid("after", "not a page cursor: use the next value of the previous page")
	}
	switch q.Status {
	case "", CompareDiffers, CompareMissingInDWD:
	case CompareMissingInReference:
		if !q.MissingFromReference {
			return nil, invalid("status", "%s needs missing_from_reference", q.Status)
		}
	default:
		return nil, invalid("status", "%q: want differs, missing_in_dwd or missing_in_reference", truncate(q.Status, 40))
	}
	t, err := loadTable(ctx, s.conn, q.Dataset, "dataset")
	if err != nil {
		return nil, err
	}
	if q.Region != "" && !t.has(colRegion) {
		return nil, invalid("region", "table %s has no region_code: compare it without a region", t.Name)
	}

	ref := stagedFilter{}
	ref.add(`purpose = ?`, purposeReference)
	ref.add(`dataset = ?`, q.Dataset)
	if q.Batch != "" {
		ref.add(`batch_id = ?`, q.Batch)
	}
	if q.Source != "" {
		ref.add(`source = ?`, q.Source)
	}
	if q.Region != "" {
		ref.add(`startsWith(region_code, ?)`, q.Region)
	}
	refSQL := `SELECT ` + stagedColumns + pendingScope + ref.where() + ` ORDER BY identity_key, version DESC, batch_id DESC, row_no DESC`
	inRef := `identity_key IN (SELECT identity_key FROM ods_staged_rows` + ref.where() + `)`
	dwdWhere, dwdArgs := ` WHERE `+inRef, ref.args
	if q.MissingFromReference {
		dwdWhere, dwdArgs = "", nil
		if q.Region != "" {
			dwdWhere = ` WHERE (startsWith(region_code, ?) OR ` + inRef + `)`
			dwdArgs = append([]any{q.Region}, ref.args...)
		}
	}
	dwdSQL := `SELECT ` + t.selectList() + ` FROM ` + quoteTable(t.Name) + ` FINAL` + dwdWhere + ` ORDER BY identity_key`

	refRows, err := s.conn.Query(ctx, refSQL, ref.args...)
	if err != nil {
		return nil, fmt.Errorf("read reference rows of %s: %w", q.Dataset, err)
	}
	defer refRows.Close()
	dwdRows, err := s.conn.Query(ctx, dwdSQL, dwdArgs...)
	if err != nil {
		return nil, fmt.Errorf("read %s for comparison: %w", t.Name, err)
	}
	defer dwdRows.Close()

	c := &Comparison{Dataset: q.Dataset, Batch: q.Batch, Source: q.Source, Region: q.Region, Rows: []CompareRow{}}
	if q.MissingFromReference {
		c.MissingInReference = new(uint64)
	}
	j := joiner{t: t, ref: &refIter{rows: refRows}, dwd: &dwdIter{rows: dwdRows, t: t}}
	full := false
	err = j.run(func(row CompareRow) {
		switch row.Status {
		case CompareSame:
			c.Same++
		case CompareDiffers:
			c.Differs++
		case CompareMissingInDWD:
			c.MissingInDWD++
		case CompareMissingInReference:
			if !q.MissingFromReference {
				return
			}
			*c.MissingInReference++
		}
		s.metrics.compared.WithLabelValues(q.Dataset, row.Status).Inc()
		if row.Status == CompareSame || (q.Status != "" && row.Status != q.Status) || row.IdentityKey <= q.After {
			return
		}
		if len(c.Rows) == limit {
			full = true
			return
		}
		c.Rows = append(c.Rows, row)
	})
	if err != nil {
		return nil, fmt.Errorf("compare reference of %s with %s: %w", q.Dataset, t.Name, err)
	}
	c.Reference = c.Same + c.Differs + c.MissingInDWD
	if full {
		c.Next = c.Rows[len(c.Rows)-1].IdentityKey
	}
	return c, nil
}

// refIter reads reference rows, the newest of each identity only.
type refIter struct {
	rows driver.Rows
	cur  *staged
	last string
}

func (it *refIter) next() (*staged, error) {
	for it.rows.Next() {
		var st staged
		if err := st.scan(it.rows); err != nil {
			return nil, err
		}
		if it.cur != nil && st.IdentityKey == it.last {
			continue
		}
		it.cur, it.last = &st, st.IdentityKey
		return it.cur, nil
	}
	return nil, it.rows.Err()
}

// dwdIter reads dwd rows as canonical texts.
type dwdIter struct {
	rows driver.Rows
	t    *table
}

func (it *dwdIter) next() (map[string]*string, error) {
	if !it.rows.Next() {
		return nil, it.rows.Err()
	}
	return it.t.scanRow(it.rows)
}

// joiner merges the two identity-ordered streams.
type joiner struct {
	t   *table
	ref *refIter
	dwd *dwdIter
}

func (j *joiner) run(emit func(CompareRow)) error {
	r, err := j.ref.next()
	if err != nil {
		return err
	}
	d, err := j.dwd.next()
	if err != nil {
		return err
	}
	for r != nil || d != nil {
		dkey := ""
		if d != nil {
			dkey = deref(d[colIdentity])
		}
		switch {
		case d == nil || (r != nil && r.IdentityKey < dkey):
			prop, err := r.proposed(j.t)
			if err != nil {
				return err
			}
			emit(CompareRow{IdentityKey: r.IdentityKey, Status: CompareMissingInDWD, RegionCode: r.RegionCode,
				Reference: prop, ReferenceBatch: r.BatchID, ReferenceRowNo: r.RowNo})
			if r, err = j.ref.next(); err != nil {
				return err
			}
		case r == nil || dkey < r.IdentityKey:
			emit(CompareRow{IdentityKey: dkey, Status: CompareMissingInReference, RegionCode: deref(d[colRegion]), Current: d})
			if d, err = j.dwd.next(); err != nil {
				return err
			}
		default:
			prop, err := r.proposed(j.t)
			if err != nil {
				return err
			}
			row := CompareRow{IdentityKey: dkey, Status: CompareSame, RegionCode: deref(d[colRegion])}
			for _, fd := range diff(j.t, d, prop) {
				row.Diff = append(row.Diff, CompareDiff{Column: fd.Column, Current: fd.Current, Reference: fd.Proposed})
			}
			if len(row.Diff) > 0 {
				row.Status, row.Reference, row.ReferenceBatch, row.ReferenceRowNo = CompareDiffers, prop, r.BatchID, r.RowNo
			}
			emit(row)
			if r, err = j.ref.next(); err != nil {
				return err
			}
			if d, err = j.dwd.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
