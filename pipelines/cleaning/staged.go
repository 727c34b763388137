package cleaning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Source kinds a feed record carries (feedrecord.Record.SourceKind, ingest/feeds Kind*); "" is a
// record written before kinds existed, treated as community.
const (
	SourceCommunity  = "community"
	SourceDepartment = "department"
	SourceReference  = "reference"
)

// Routes of a valid row: where the cleaning pipeline writes it.
const (
	RouteDWD       = "dwd"       // the dataset's dwd_ table
	RouteChange    = "change"    // ods_staged_rows, purpose 'change': a change request for review
	RouteReference = "reference" // ods_staged_rows, purpose 'reference': compared, never loaded
)

// CodeSourceKind is the quarantine code of a record whose source kind the pipeline does not know
// (field "source_kind"): routing it anywhere could load what must be reviewed.
const CodeSourceKind = "source_kind"

// Route is where a valid row of the spec's dataset from a source of the given kind goes: a
// reference source's rows are staged for comparison (any dataset), a department's rows of a
// Review dataset are staged as change requests, everything else is loaded. ok is false for a
// kind it does not know.
func (s Spec) Route(sourceKind string) (route string, ok bool) {
	switch sourceKind {
	case "", SourceCommunity:
		return RouteDWD, true
	case SourceDepartment:
		if s.Review {
			return RouteChange, true
		}
		return RouteDWD, true
	case SourceReference:
		return RouteReference, true
	}
	return "", false
}

// StagedTable is the table of rows staged for review or comparison.
const StagedTable = "ods_staged_rows"

// StagedColumns are the ods_staged_rows columns in the order Staged.Values returns.
var StagedColumns = []string{"purpose", "dataset", "request_id", "identity_key", "region_code", "source", "batch_id",
	"row_no", "row", "received_at", "version"}

// Staged is one ods_staged_rows row (see doc.go for the contract).
type Staged struct {
	Purpose     string // RouteChange or RouteReference
	Dataset     string
	RequestID   string
	IdentityKey string
	RegionCode  string
	Source      string
	BatchID     string
	RowNo       uint64
	// Row is the JSON object of the dwd row (RowJSON).
	Row          string
	ReceivedAtMs int64
}

// Values returns s as values for StagedColumns.
func (s Staged) Values() []any {
	return []any{s.Purpose, s.Dataset, s.RequestID, s.IdentityKey, s.RegionCode, s.Source, s.BatchID, s.RowNo, s.Row,
		time.UnixMilli(s.ReceivedAtMs).Truncate(time.Second), uint64(max(s.ReceivedAtMs, 0))}
}

// Stage returns the ods_staged_rows row of a valid row routed to staging (c.Route is RouteChange
// or RouteReference). It is what the pipeline writes, without a runner.
func (s Spec) Stage(c Cleaned) (Staged, error) {
	if c.Route != RouteChange && c.Route != RouteReference {
		return Staged{}, fmt.Errorf("%s row %s: route %q is not staged", s.Dataset, c.Get(MetaIdentityKey), c.Route)
	}
	row, err := s.RowJSON(c)
	if err != nil {
		return Staged{}, err
	}
	get := c.lookup()
	n, err := strconv.ParseUint(get(MetaRowNo), 10, 64)
	if err != nil {
		return Staged{}, fmt.Errorf("%s row_no: %w", s.Dataset, err)
	}
	st := Staged{Purpose: c.Route, Dataset: s.Dataset, RequestID: c.RequestID, IdentityKey: get(MetaIdentityKey),
		Source: get(MetaSource), BatchID: get(MetaBatchID), RowNo: n, Row: string(row), ReceivedAtMs: c.ReceivedAtMs}
	for _, col := range s.Columns {
		if col.Name == "community_code" {
			st.RegionCode = get(col.source())
		}
	}
	return st, nil
}

// RowJSON is the JSON object of the dwd row c would be: dwd column name → the value as a string
// (exactly what the dwd row holds, as Values converts it), without received_at and version;
// quality_flags is an array of strings, a Date is YYYY-MM-DD, a DateTime "YYYY-MM-DD HH:MM:SS"
// in China Standard Time, a UInt8 "1" or "0", a float in its shortest decimal form, NULL is
// null. Keys are sorted, so the same row always gives the same bytes.
func (s Spec) RowJSON(c Cleaned) ([]byte, error) {
	vals, err := s.Values(c)
	if err != nil {
		return nil, fmt.Errorf("%s row %s: %w", s.Dataset, c.Get(MetaIdentityKey), err)
	}
	m := make(map[string]any, len(vals))
	for i, col := range s.Columns {
		if col.Kind == KindReceivedAt || col.Kind == KindVersion {
			continue
		}
		v, err := jsonValue(col.Kind, vals[i])
		if err != nil {
			return nil, fmt.Errorf("%s column %s: %w", s.Dataset, col.Name, err)
		}
		m[col.Name] = v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// jsonValue is one converted column value as the staged JSON holds it: a string, nil or (flags)
// a list of strings.
func jsonValue(kind string, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case *string:
		if x == nil {
			return nil, nil
		}
		return *x, nil
	case []string:
		return x, nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case *uint8:
		if x == nil {
			return nil, nil
		}
		return strconv.FormatUint(uint64(*x), 10), nil
	case *int64:
		if x == nil {
			return nil, nil
		}
		return strconv.FormatInt(*x, 10), nil
	case *float64:
		if x == nil {
			return nil, nil
		}
		return strconv.FormatFloat(*x, 'f', -1, 64), nil
	case time.Time:
		return formatTime(kind, x), nil
	case *time.Time:
		if x == nil {
			return nil, nil
		}
		return formatTime(kind, *x), nil
	}
	return nil, fmt.Errorf("no JSON form for %T", v)
}

func formatTime(kind string, t time.Time) string {
	if kind == KindDate || kind == KindDateOr {
		return t.UTC().Format(time.DateOnly)
	}
	return t.In(cst).Format(time.DateTime)
}
