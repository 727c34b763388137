package cleaning

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Column kinds: how a Cleaned value becomes a ClickHouse value.
const (
	KindString     = "string"      // String; "" when absent
	KindDate       = "date"        // Date from YYYY-MM-DD; 1970-01-01 when absent
	KindDateTimeOr = "datetime?"   // Nullable(DateTime) from "YYYY-MM-DD HH:MM:SS" (China Standard Time)
	KindUInt64     = "uint64"      // UInt64 from a decimal string
	KindInt64Or    = "int64?"      // Nullable(Int64) from a decimal string; NULL when absent
	KindFloat64Or  = "float64?"    // Nullable(Float64) from a decimal string; NULL when absent
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

// Spec is one dataset the cleaning pipeline handles.
type Spec struct {
	// Dataset is the standard's dataset name; its topic is bus.FeedsTopic(Dataset).
	Dataset string
	// Table is the dwd_ table of valid rows.
	Table string
	// Columns of Table, in insert order.
	Columns []Column
	// Protect names the personal fields stored only as "<field>_hash" (keyed hash of the
	// normalised value) and "<field>_masked" (by the given mask).
	Protect map[string]func(string) string
}

// Specs are the datasets the cleaning pipeline handles, by dataset name. Adding one is an entry
// here and a migration for its table.
var Specs = map[string]Spec{
	"person": {
		Dataset: "person",
		Table:   "dwd_person",
		Protect: map[string]func(string) string{"id_card": MaskIDCard, "mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "id_card_hash", Kind: KindString},
			{Name: "id_card_masked", Kind: KindString},
			{Name: "name", Kind: KindString},
			{Name: "gender", Kind: KindString},
			{Name: "birth_date", Kind: KindDate},
			{Name: "ethnicity", Kind: KindString},
			{Name: "marital_status", Kind: KindString},
			{Name: "mobile_hash", Kind: KindString},
			{Name: "mobile_masked", Kind: KindString},
			{Name: "residence_status", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "hukou_address", Kind: KindString},
			{Name: "registered_at", Kind: KindDateTimeOr},
		}, lineageColumns),
	},
	"house": {
		Dataset: "house",
		Table:   "dwd_house",
		Protect: map[string]func(string) string{"owner_id_card": MaskIDCard},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "house_no", Kind: KindString},
			{Name: "compound", Kind: KindString},
			{Name: "building", Kind: KindString},
			{Name: "unit", Kind: KindString},
			{Name: "floor", Kind: KindInt64Or},
			{Name: "room", Kind: KindString},
			{Name: "use", Kind: KindString},
			{Name: "status", Kind: KindString},
			{Name: "area", Kind: KindFloat64Or},
			{Name: "owner_id_card_hash", Kind: KindString},
			{Name: "owner_id_card_masked", Kind: KindString},
			{Name: "built_year", Kind: KindInt64Or},
		}, lineageColumns),
	},
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
	out := make([]any, len(s.Columns))
	for i, col := range s.Columns {
		name := col.Value
		if name == "" {
			name = col.Name
		}
		v := get(name)
		switch col.Kind {
		case KindString:
			out[i] = v
		case KindDate:
			d := time.Unix(0, 0).UTC()
			if v != "" {
				var err error
				if d, err = time.ParseInLocation(time.DateOnly, v, time.UTC); err != nil {
					return nil, fmt.Errorf("column %s: %w", col.Name, err)
				}
			}
			out[i] = d
		case KindDateTimeOr:
			var t *time.Time
			if v != "" {
				x, err := time.ParseInLocation(time.DateTime, v, cst)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", col.Name, err)
				}
				t = &x
			}
			out[i] = t
		case KindUInt64:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", col.Name, err)
			}
			out[i] = n
		case KindInt64Or:
			var n *int64
			if v != "" {
				x, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", col.Name, err)
				}
				n = &x
			}
			out[i] = n
		case KindFloat64Or:
			var f *float64
			if v != "" {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", col.Name, err)
				}
				f = &x
			}
			out[i] = f
		case KindFlags:
			out[i] = append([]string{}, c.Flags...)
		case KindReceivedAt:
			out[i] = time.UnixMilli(c.ReceivedAtMs).Truncate(time.Second)
		case KindVersion:
			out[i] = uint64(max(c.ReceivedAtMs, 0))
		default:
			return nil, fmt.Errorf("column %s: unknown kind %q", col.Name, col.Kind)
		}
	}
	return out, nil
}

// MaskIDCard shows the 6-digit address code and the last 4 characters of a resident ID:
// 510104********1234.
func MaskIDCard(s string) string { return mask(s, 6, 4) }

// MaskMobile shows the first 3 and the last 4 digits of a mobile number: 138****5678.
func MaskMobile(s string) string { return mask(s, 3, 4) }

// mask keeps head and tail characters of s and stars the rest; a value too short to keep both is
// all stars.
func mask(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return stars(len(r))
	}
	return string(r[:head]) + stars(len(r)-head-tail) + string(r[len(r)-tail:])
}

func stars(n int) string { return strings.Repeat("*", n) }
