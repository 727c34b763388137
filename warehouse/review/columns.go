package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse"
)

// cst is China Standard Time, the zone of the staged rows' DateTime values.
var cst = time.FixedZone("CST", 8*3600)

// Columns every dwd_ table ends with that review fills itself or leaves out of diffs.
const (
	colIdentity   = "identity_key"
	colRegion     = "region_code"
	colSource     = "source"
	colBatchID    = "batch_id"
	colRowNo      = "row_no"
	colFlags      = "quality_flags"
	colReceivedAt = "received_at"
	colVersion    = "version"
)

// notCompared are the columns a diff leaves out: the key and the lineage.
var notCompared = map[string]bool{
	colIdentity: true, colSource: true, colBatchID: true, colRowNo: true,
	colFlags: true, colReceivedAt: true, colVersion: true,
}

// baseType is how values of one ClickHouse type travel: from a staged string to the Go value a
// batch appends (parse), from a scanned value to its canonical string (format).
type baseType struct {
	goType reflect.Type
	parse  func(string) (any, error)
	format func(any) string
	// emptyIsNull: in a Nullable column an empty string means NULL (every type but String).
	emptyIsNull bool
}

var baseTypes = map[string]baseType{
	"String": {reflect.TypeFor[string](), func(s string) (any, error) { return s, nil },
		func(v any) string { return v.(string) }, false},
	"Date": {reflect.TypeFor[time.Time](), parseDate,
		func(v any) string { t := v.(time.Time); return t.Format(time.DateOnly) }, true},
	"DateTime": {reflect.TypeFor[time.Time](), parseDateTime,
		func(v any) string { return v.(time.Time).In(cst).Format(time.DateTime) }, true},
	"UInt8": {reflect.TypeFor[uint8](), parseUInt8,
		func(v any) string { return strconv.FormatUint(uint64(v.(uint8)), 10) }, true},
	"UInt64": {reflect.TypeFor[uint64](), func(s string) (any, error) { return strconv.ParseUint(s, 10, 64) },
		func(v any) string { return strconv.FormatUint(v.(uint64), 10) }, true},
	"Int64": {reflect.TypeFor[int64](), func(s string) (any, error) { return strconv.ParseInt(s, 10, 64) },
		func(v any) string { return strconv.FormatInt(v.(int64), 10) }, true},
	"Float64": {reflect.TypeFor[float64](), func(s string) (any, error) { return strconv.ParseFloat(s, 64) },
		func(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }, true},
}

// What ClickHouse's Date (on 18.16 and current servers alike) and DateTime hold.
var (
	minDate     = time.Unix(0, 0).UTC()
	maxDate     = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	maxDateTime = time.Unix(1<<32-1, 0)
)

func parseDate(s string) (any, error) {
	if s == "" {
		return minDate, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err == nil && (d.Before(minDate) || d.After(maxDate)) {
		err = fmt.Errorf("outside the dates a Date holds (%s to %s)", minDate.Format(time.DateOnly), maxDate.Format(time.DateOnly))
	}
	return d, err
}

func parseDateTime(s string) (any, error) {
	if s == "" {
		return minDate, nil
	}
	d, err := time.ParseInLocation(time.DateTime, s, cst)
	if err == nil && (d.Before(minDate) || d.After(maxDateTime)) {
		err = errors.New("outside the times a DateTime holds (1970 to 2106)")
	}
	return d, err
}

func parseUInt8(s string) (any, error) {
	switch s {
	case "true":
		return uint8(1), nil
	case "false", "":
		return uint8(0), nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	return uint8(n), err
}

// column is one insertable column of a dwd_ table.
type column struct {
	Name     string
	Type     string // as system.columns gives it
	nullable bool
	array    bool // Array(String)
	base     baseType
}

// newColumn checks that review can carry the column's type.
func newColumn(name, typ string) (column, error) {
	c := column{Name: name, Type: typ}
	inner := typ
	if s, ok := strings.CutPrefix(inner, "Nullable("); ok && strings.HasSuffix(s, ")") {
		c.nullable, inner = true, strings.TrimSuffix(s, ")")
	}
	if inner == "Array(String)" && !c.nullable {
		c.array = true
		return c, nil
	}
	b, ok := baseTypes[inner]
	if !ok {
		return c, fmt.Errorf("column %s: type %s is not one review handles (String, Date, DateTime, UInt8, UInt64, Int64, Float64, Nullable of those, Array(String))", name, typ)
	}
	c.base = b
	return c, nil
}

// stagedValue is one value of a staged row: a string, NULL, or (quality_flags) a list.
type stagedValue struct {
	null  bool
	str   string
	list  []string
	isArr bool
}

// decodeStaged reads one JSON value of a staged row. Numbers and booleans are taken as their
// literal text, so a row written with them still reads.
func decodeStaged(raw json.RawMessage) (stagedValue, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return stagedValue{null: true}, nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return stagedValue{str: s}, err
	case raw[0] == '[':
		var l []string
		err := json.Unmarshal(raw, &l)
		return stagedValue{list: l, isArr: true}, err
	case raw[0] == '{':
		return stagedValue{}, fmt.Errorf("an object is not a column value")
	}
	return stagedValue{str: string(raw)}, nil
}

// value turns a staged value into what a batch appends for the column: NULL for a missing, null
// or (but for strings) empty value of a Nullable column, the type's default (0, "", 1970-01-01)
// for one of another column.
func (c column) value(sv stagedValue) (any, error) {
	if c.array {
		if sv.isArr {
			return append([]string{}, sv.list...), nil
		}
		if sv.null || sv.str == "" {
			return []string{}, nil
		}
		return nil, fmt.Errorf("column %s (%s): want a JSON array of strings", c.Name, c.Type)
	}
	if sv.isArr {
		return nil, fmt.Errorf("column %s (%s): a list is not a value of this type", c.Name, c.Type)
	}
	if sv.null || (sv.str == "" && c.base.emptyIsNull) {
		switch {
		case c.nullable:
			return reflect.Zero(reflect.PointerTo(c.base.goType)).Interface(), nil
		case c.base.goType == reflect.TypeFor[time.Time]():
			return minDate, nil
		}
		return reflect.Zero(c.base.goType).Interface(), nil
	}
	v, err := c.base.parse(sv.str)
	if err != nil {
		return nil, fmt.Errorf("column %s (%s): %q: %w", c.Name, c.Type, sv.str, err)
	}
	if c.nullable {
		p := reflect.New(c.base.goType)
		p.Elem().Set(reflect.ValueOf(v))
		return p.Interface(), nil
	}
	return v, nil
}

// dest returns a pointer a row scans the column into.
func (c column) dest() any {
	switch {
	case c.array:
		return new([]string)
	case c.nullable:
		return reflect.New(reflect.PointerTo(c.base.goType)).Interface()
	}
	return reflect.New(c.base.goType).Interface()
}

// text is the canonical text of a value as value or dest gives it (a pointer to it for dest):
// nil for NULL, a JSON array for a list, the type's plain form otherwise. Two values are equal
// exactly when their texts are.
func (c column) text(v any) *string {
	rv := reflect.ValueOf(v)
	if c.array {
		if rv.Kind() == reflect.Pointer {
			rv = rv.Elem()
		}
		l, _ := rv.Interface().([]string)
		if l == nil {
			l = []string{}
		}
		b, _ := json.Marshal(l) // a []string always marshals
		s := string(b)
		return &s
	}
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	s := c.base.format(rv.Interface())
	return &s
}

// canonical is the text of a staged value as the column would hold it.
func (c column) canonical(sv stagedValue) (*string, error) {
	v, err := c.value(sv)
	if err != nil {
		return nil, err
	}
	return c.text(v), nil
}

// table is a dwd_ table's insertable columns, in table order.
type table struct {
	Name    string
	Columns []column
	index   map[string]int
}

func (t *table) has(name string) bool { _, ok := t.index[name]; return ok }

// columnsSQL lists a table's columns; MATERIALIZED and ALIAS columns cannot be inserted.
const columnsSQL = `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ? AND default_kind NOT IN ('MATERIALIZED', 'ALIAS')`

// loadTable reads dwd_<dataset>'s columns; a dataset without a table is an InputError on field.
func loadTable(ctx context.Context, conn driver.Conn, dataset, field string) (*table, error) {
	if !validDataset(dataset) {
		return nil, invalid(field, "%q: want a dataset name (lowercase letters, digits and _)", truncate(dataset, 40))
	}
	t := &table{Name: "dwd_" + dataset, index: map[string]int{}}
	rows, err := conn.Query(ctx, columnsSQL, t.Name)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", t.Name, err)
		}
		c, err := newColumn(name, typ)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
		t.index[name] = len(t.Columns)
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", t.Name, err)
	}
	if len(t.Columns) == 0 {
		return nil, invalid(field, "dataset %q has no table %s", dataset, t.Name)
	}
	for _, need := range []string{colIdentity, colReceivedAt, colVersion} {
		if !t.has(need) {
			return nil, fmt.Errorf("table %s has no %s column: not a dwd_ table review can write", t.Name, need)
		}
	}
	return t, nil
}

// selectList is the table's columns, quoted, for a SELECT.
func (t *table) selectList() string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = warehouse.QuoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}

// scanRow reads one row of selectList into canonical texts by column name.
func (t *table) scanRow(rows driver.Rows) (map[string]*string, error) {
	dests := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		dests[i] = c.dest()
	}
	if err := rows.Scan(dests...); err != nil {
		return nil, err
	}
	out := make(map[string]*string, len(t.Columns))
	for i, c := range t.Columns {
		out[c.Name] = c.text(dests[i])
	}
	return out, nil
}

// validDataset: dataset names are lowercase identifiers (the standard's file names).
func validDataset(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
