package cleaning

import (
	"fmt"
	"strconv"
	"time"
)

// Column kinds: how a Cleaned value (text, "" when absent) becomes a ClickHouse value.
const (
	KindString = "string" // String; "" when absent
	// Dates are stored as their "YYYY-MM-DD" text, not as Date: a Date of ClickHouse 18.16 starts
	// in 1970 (there is no Date32), and birth dates, founding dates and move-in dates of a city
	// lie before that. "YYYY-MM-DD" text sorts and compares like the date.
	KindDate       = "date"        // String "YYYY-MM-DD"; "" when absent
	KindDateOr     = "date?"       // Nullable(String) "YYYY-MM-DD"; NULL when absent
	KindDateTime   = "datetime"    // DateTime from "YYYY-MM-DD HH:MM:SS" (China Standard Time); the Unix epoch when absent
	KindDateTimeOr = "datetime?"   // Nullable(DateTime) from "YYYY-MM-DD HH:MM:SS" (China Standard Time)
	KindUInt64     = "uint64"      // UInt64 from a decimal string
	KindInt64Or    = "int64?"      // Nullable(Int64) from a decimal string; NULL when absent
	KindFloat64Or  = "float64?"    // Nullable(Float64) from a decimal string; NULL when absent
	KindBool       = "bool"        // UInt8 1 or 0 from true/false (or 1/0); 0 when absent
	KindBoolOr     = "bool?"       // Nullable(UInt8) 1 or 0 from true/false (or 1/0); NULL when absent
	KindFlags      = "flags"       // Array(String): the quality flags
	KindReceivedAt = "received_at" // DateTime: the record's receive time
	KindVersion    = "version"     // UInt64: the receive time in Unix milliseconds
)

// Meta value names every Cleaned row carries besides its dataset's fields.
const (
	MetaIdentityKey = "identity_key"
	MetaSource      = "source"
	MetaBatchID     = "batch_id"
	MetaRowNo       = "row_no"
)

// Column is one column of a dwd_ table: its name, and the Cleaned value it is filled from (Value,
// the column name when empty) in the given kind.
type Column struct {
	Name  string
	Kind  string
	Value string
}

// source is the name of the Cleaned value the column is filled from.
func (c Column) source() string {
	if c.Value != "" {
		return c.Value
	}
	return c.Name
}

// Spec is one dataset the cleaning pipeline handles.
type Spec struct {
	// Dataset is the standard's dataset name; its topic is bus.FeedsTopic(Dataset).
	Dataset string
	// Table is the dwd_ table of valid rows.
	Table string
	// Columns of Table, in insert order.
	Columns []Column
	// Protect names the personal fields stored only as "<field>_hash" (keyed hash of the
	// normalised value, for joins), "<field>_masked" (by the given mask, for analysts) and
	// "<field>_enc" (AES-GCM, for callers allowed to reveal it; see Encrypt).
	Protect map[string]func(string) string
	// Review: a department's valid rows are change requests the community reviews, staged in
	// ods_staged_rows (purpose 'change') instead of loaded; see Route.
	Review bool
}

// regionColumns are a region field and its four level codes (city_code … community_code),
// filled from the cleaner's "<field>.city" … "<field>.community" values.
func regionColumns(field string) []Column {
	cols := []Column{{Name: field, Kind: KindString}}
	for _, level := range []string{"city", "district", "street", "community"} {
		cols = append(cols, Column{Name: level + "_code", Kind: KindString, Value: field + "." + level})
	}
	return cols
}

// protectedColumns are the stored forms of a protected field: its keyed hash, its masked form and
// its encrypted value.
func protectedColumns(field string) []Column {
	return []Column{{Name: field + "_hash", Kind: KindString}, {Name: field + "_masked", Kind: KindString},
		{Name: field + "_enc", Kind: KindString}}
}

// lineageColumns end every dwd_ table: where the row came from, what cleaning did, and the
// version that makes the newest record win.
var lineageColumns = []Column{
	{Name: "source", Kind: KindString},
	{Name: "batch_id", Kind: KindString},
	{Name: "row_no", Kind: KindUInt64},
	{Name: "quality_flags", Kind: KindFlags},
	{Name: "received_at", Kind: KindReceivedAt},
	{Name: "version", Kind: KindVersion},
}

// columns concatenates column groups in order.
func columns(groups ...[]Column) []Column {
	var out []Column
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// ColumnNames returns the spec's column names in insert order.
func (s Spec) ColumnNames() []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

// cst is China Standard Time, the zone of the standard's datetime values.
var cst = time.FixedZone("CST", 8*3600)

// Values returns c as column values for s.Columns.
func (s Spec) Values(c Cleaned) ([]any, error) {
	get := c.lookup()
	return s.values(func(col Column) string { return get(col.source()) }, c.Flags, c.ReceivedAtMs)
}

// values converts each column's text (from text; "" when absent) to its ClickHouse value.
func (s Spec) values(text func(Column) string, flags []string, receivedAtMs int64) ([]any, error) {
	out := make([]any, len(s.Columns))
	for i, col := range s.Columns {
		v, err := convert(col.Kind, text(col), flags, receivedAtMs)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col.Name, err)
		}
		out[i] = v
	}
	return out, nil
}

// convert is one value of a kind from its text.
func convert(kind, v string, flags []string, receivedAtMs int64) (any, error) {
	switch kind {
	case KindString:
		return v, nil
	case KindDate, KindDateOr:
		if v != "" && !isDateOnly(v) {
			if _, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err != nil {
				return nil, err
			}
		}
		if kind == KindDate {
			return v, nil
		}
		if v == "" {
			return (*string)(nil), nil
		}
		return &v, nil
	case KindDateTime, KindDateTimeOr:
		if v == "" {
			if kind == KindDateTimeOr {
				return (*time.Time)(nil), nil
			}
			return time.Unix(0, 0).In(cst), nil
		}
		t, err := parseDateTime(v)
		if err != nil {
			return nil, err
		}
		if kind == KindDateTimeOr {
			return &t, nil
		}
		return t, nil
	case KindUInt64:
		return strconv.ParseUint(v, 10, 64)
	case KindInt64Or:
		if v == "" {
			return (*int64)(nil), nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		return &n, nil
	case KindFloat64Or:
		if v == "" {
			return (*float64)(nil), nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		return &f, nil
	case KindBool, KindBoolOr:
		var b uint8
		switch v {
		case "":
			if kind == KindBoolOr {
				return (*uint8)(nil), nil
			}
		case "true", "1":
			b = 1
		case "false", "0":
		default:
			return nil, fmt.Errorf("%q is not true/false", v)
		}
		if kind == KindBoolOr {
			return &b, nil
		}
		return b, nil
	case KindFlags:
		return append([]string{}, flags...), nil
	case KindReceivedAt:
		return time.UnixMilli(receivedAtMs).Truncate(time.Second), nil
	case KindVersion:
		return uint64(max(receivedAtMs, 0)), nil
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

// isDateOnly reports whether v is a "YYYY-MM-DD" date that exists, which
// time.ParseInLocation(time.DateOnly, v, …) accepts.
func isDateOnly(v string) bool {
	if len(v) != len(time.DateOnly) || v[4] != '-' || v[7] != '-' {
		return false
	}
	y, ok1 := digits(v[0:4])
	m, ok2 := digits(v[5:7])
	d, ok3 := digits(v[8:10])
	return ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(m, y)
}

// parseDateTime is time.ParseInLocation(time.DateTime, v, cst), without its generality for the
// plain "YYYY-MM-DD HH:MM:SS" the standard writes.
func parseDateTime(v string) (time.Time, error) {
	if len(v) == len(time.DateTime) && v[10] == ' ' && v[13] == ':' && v[16] == ':' && isDateOnly(v[:10]) {
		h, ok1 := digits(v[11:13])
		m, ok2 := digits(v[14:16])
		sec, ok3 := digits(v[17:19])
		if ok1 && ok2 && ok3 && h <= 23 && m <= 59 && sec <= 59 {
			y, _ := digits(v[0:4])
			mo, _ := digits(v[5:7])
			d, _ := digits(v[8:10])
			return time.Date(y, time.Month(mo), d, h, m, sec, 0, cst), nil
		}
	}
	return time.ParseInLocation(time.DateTime, v, cst)
}

// digits parses ASCII decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn is the number of days of month m (1–12) of year y (proleptic Gregorian, as package time).
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
