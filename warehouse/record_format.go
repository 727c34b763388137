package warehouse

import (
	stddriver "database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// testDatabaseRE matches the databases testenv makes: test_<name>_<8 hex>.
var testDatabaseRE = regexp.MustCompile(`\btest_[a-z0-9_]*_[0-9a-f]{8}\b`)

// normalizeDatabase replaces the database in a statement by placeholders: the quoted name (and a
// test database name followed by a dot) by "{db}", any other occurrence of a test database name by
// "{dbname}". Statements of different tests, each in its own database, then compare equal.
func normalizeDatabase(sql, database string) string {
	if database != "" && database != "default" {
		sql = strings.ReplaceAll(sql, QuoteIdent(database), "{db}")
	}
	sql = testDatabaseRE.ReplaceAllStringFunc(sql, func(string) string { return "\x00" })
	sql = strings.ReplaceAll(sql, "`\x00`", "{db}")
	sql = strings.ReplaceAll(sql, "\x00.", "{db}.")
	return strings.ReplaceAll(sql, "\x00", "{dbname}")
}

// recordArg describes one argument of a driver call.
func recordArg(tz *time.Location, database string, v any) RecordedArg {
	var a RecordedArg
	scale := clickhouse.Seconds
	switch nv := v.(type) {
	case driver.NamedValue:
		a.Name, v = nv.Name, nv.Value
	case driver.NamedDateValue:
		a.Name, v, scale = nv.Name, nv.Value, clickhouse.TimeUnit(nv.Scale)
	}
	if vr, ok := v.(stddriver.Valuer); ok {
		if val, err := vr.Value(); err == nil {
			v = val
		}
	}
	a.Type = fmt.Sprintf("%T", v)
	if b, err := json.Marshal(v); err == nil {
		a.Value = b
	}
	lit, err := bindLiteral(tz, scale, v, false)
	if err != nil {
		lit = "/* unbindable: " + strings.ReplaceAll(err.Error(), "*/", "") + " */"
	}
	a.Literal = normalizeDatabase(lit, database)
	return a
}

var literalQuote = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)

// bindLiteral renders v as the SQL literal clickhouse-go v2.50 splices into a statement for a
// client-side parameter (its bind.go, formatValueAt in SQL mode), for the types CityPulse passes.
func bindLiteral(tz *time.Location, scale clickhouse.TimeUnit, v any, nested bool) (string, error) {
	quote := func(s string) string { return "'" + literalQuote.Replace(s) + "'" }
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return quote(v), nil
	case []byte:
		if v == nil {
			return "NULL", nil
		}
		if !nested {
			return quote(string(v)), nil
		}
		parts := make([]string, len(v))
		for i, b := range v {
			parts[i] = strconv.Itoa(int(b))
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case time.Time:
		return bindTime(tz, scale, v)
	case *time.Time:
		if v == nil {
			return "NULL", nil
		}
		return bindTime(tz, scale, *v)
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case float32:
		return bindFloat(float64(v), 32), nil
	case float64:
		return bindFloat(v, 64), nil
	case clickhouse.GroupSet:
		s, err := bindJoin(tz, scale, v.Value)
		return "(" + s + ")", err
	case []clickhouse.GroupSet:
		items := make([]any, len(v))
		for i := range v {
			items[i] = v[i]
		}
		return bindJoin(tz, scale, items)
	case clickhouse.ArraySet:
		s, err := bindJoin(tz, scale, v)
		return "[" + s + "]", err
	case fmt.Stringer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return "NULL", nil
		}
		return quote(v.String()), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return quote(rv.String()), nil
	case reflect.Slice, reflect.Array:
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		s, err := bindJoin(tz, scale, items)
		return "[" + s + "]", err
	case reflect.Map:
		return "", fmt.Errorf("map parameters are not recorded (Map is missing on 18.16)")
	case reflect.Float32:
		return bindFloat(rv.Float(), 32), nil
	case reflect.Float64:
		return bindFloat(rv.Float(), 64), nil
	case reflect.Pointer:
		if rv.IsNil() {
			return "NULL", nil
		}
		return bindLiteral(tz, scale, rv.Elem().Interface(), nested)
	}
	return fmt.Sprint(v), nil
}

func bindJoin(tz *time.Location, scale clickhouse.TimeUnit, items []any) (string, error) {
	parts := make([]string, len(items))
	for i, it := range items {
		s, err := bindLiteral(tz, scale, it, true)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return strings.Join(parts, ", "), nil
}

// bindTime follows the driver: a Local time binds as Unix seconds, a time in the server's zone as
// its wall clock, any other zone as wall clock plus the zone's name.
func bindTime(tz *time.Location, scale clickhouse.TimeUnit, t time.Time) (string, error) {
	loc := t.Location().String()
	digits := int(scale) * 3
	switch loc {
	case "Local", "":
		if t.Unix() == 0 {
			return "toDateTime(0)", nil
		}
		switch scale {
		case clickhouse.MilliSeconds:
			return fmt.Sprintf("toDateTime64('%d', 3)", t.UnixMilli()), nil
		case clickhouse.MicroSeconds:
			return fmt.Sprintf("toDateTime64('%d', 6)", t.UnixMicro()), nil
		case clickhouse.NanoSeconds:
			return fmt.Sprintf("toDateTime64('%d', 9)", t.UnixNano()), nil
		}
		return fmt.Sprintf("toDateTime('%d')", t.Unix()), nil
	case tz.String():
		if scale == clickhouse.Seconds {
			return t.Format("toDateTime('2006-01-02 15:04:05')"), nil
		}
		return fmt.Sprintf("toDateTime64('%s', %d)", t.Format(fmt.Sprintf("2006-01-02 15:04:05.%0*d", digits, 0)), digits), nil
	}
	if literalQuote.Replace(loc) != loc {
		return "", fmt.Errorf("time zone %q cannot be bound", loc)
	}
	if scale == clickhouse.Seconds {
		return fmt.Sprintf("toDateTime('%s', '%s')", t.Format("2006-01-02 15:04:05"), loc), nil
	}
	return fmt.Sprintf("toDateTime64('%s', %d, '%s')", t.Format(fmt.Sprintf("2006-01-02 15:04:05.%0*d", digits, 0)), digits, loc), nil
}

func bindFloat(f float64, bits int) string {
	typ := "Float64"
	if bits == 32 {
		typ = "Float32"
	}
	switch {
	case math.IsNaN(f):
		return fmt.Sprintf("cast('nan', '%s')", typ)
	case math.IsInf(f, 1):
		return fmt.Sprintf("cast('inf', '%s')", typ)
	case math.IsInf(f, -1):
		return fmt.Sprintf("cast('-inf', '%s')", typ)
	}
	return fmt.Sprintf("cast(%s, '%s')", strconv.FormatFloat(f, 'g', -1, bits), typ)
}
