package chdbtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

// goldenDays are the days goldenSetup's events fall on; the daily aggregate is refreshed for each.
var goldenDays = []string{"2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05", "2024-05-06", "2024-05-07"}

// TestGoldenQueries runs goldenQueries on ClickHouse 18.16 (through clickhouse-go, as the product
// does) and on chDB over the same data, and compares result types and rows.
func TestGoldenQueries(t *testing.T) {
	chdbPython(t) // skip before touching 18.16 when chDB is missing
	// Not recorded: the drift probes are meant to differ, and would fail the suite's replay.
	t.Setenv(warehouse.RecordStatementsEnv, "")
	cfg, conn := testenv.Warehouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	setup := append([]string(nil), goldenSetup...)
	for _, d := range goldenDays {
		setup = append(setup, fmt.Sprintf(refreshDailySQL, d))
	}
	db := warehouse.QuoteIdent(cfg.Database)
	for _, s := range setup {
		if err := conn.Exec(ctx, strings.ReplaceAll(s, "{db}", db)); err != nil {
			t.Fatalf("18.16 setup: %v\n%s", err, s)
		}
	}
	queries := append([]goldenQuery(nil), goldenQueries...)
	for _, p := range driftProbes {
		queries = append(queries, p.goldenQuery)
	}
	resp := runGolden(t, goldenRequest{Database: "golden", Migrations: repoRoot(t) + "/warehouse/migrations",
		Setup: setup, Queries: queries})
	t.Logf("chDB engine: ClickHouse %s", resp.Version)
	for _, f := range resp.MigrationFailures {
		t.Logf("chDB: migration %s statement %d failed (the replay reports it): %s", f.Migration, f.Statement, f.Error)
	}
	for _, f := range resp.SetupFailures {
		t.Errorf("chDB setup failed: %s\n%s", f.Error, f.SQL)
	}
	if len(resp.Results) != len(queries) {
		t.Fatalf("chDB answered %d queries of %d", len(resp.Results), len(queries))
	}
	same := 0
	for i, q := range goldenQueries {
		cur := resp.Results[i]
		old, err := runOn1816(ctx, conn, q.SQL)
		switch {
		case err != nil && cur.Error != "":
			t.Errorf("%s: fails on both engines: 18.16 %v; current %s", q.Name, err, cur.Error)
		case err != nil:
			t.Errorf("%s: 18.16: %v", q.Name, err)
		case cur.Error != "":
			t.Errorf("%s: current engine rejects it: %s", q.Name, cur.Error)
		case len(old.Rows) == 0:
			t.Errorf("%s: no rows on 18.16; a golden query must return some to compare", q.Name)
		default:
			if diffs := compareResults(old, cur); len(diffs) > 0 {
				t.Errorf("%s: results differ:\n  %s", q.Name, strings.Join(diffs, "\n  "))
			} else {
				same++
			}
		}
	}
	for i, p := range driftProbes {
		cur := resp.Results[len(goldenQueries)+i]
		old, err := runOn1816(ctx, conn, p.SQL)
		var diffs []string
		switch {
		case err != nil && cur.Error != "":
			t.Errorf("drift probe %s fails on both engines: 18.16 %v; current %s", p.Name, err, cur.Error)
			continue
		case err != nil:
			diffs = []string{"18.16 rejects it: " + err.Error()}
		case cur.Error != "":
			diffs = []string{"the current engine rejects it: " + cur.Error}
		default:
			diffs = compareResults(old, cur)
		}
		if len(diffs) == 0 {
			t.Logf("drift probe %s: no longer differs (update docs/clickhouse-compat.md): %s", p.Name, p.why)
			continue
		}
		t.Logf("drift probe %s, as documented: %s\n  %s", p.Name, p.why, strings.Join(diffs, "\n  "))
	}
	t.Logf("golden queries: %d of %d give the same types and rows on 18.16 and ClickHouse %s", same, len(goldenQueries), resp.Version)
}

// runOn1816 runs a query through clickhouse-go and returns its columns and canonical rows.
func runOn1816(ctx context.Context, conn driver.Conn, sql string) (goldenResult, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return goldenResult{}, err
	}
	defer rows.Close()
	var res goldenResult
	types := rows.ColumnTypes()
	for _, ct := range types {
		res.Columns = append(res.Columns, column{Name: ct.Name(), Type: ct.DatabaseTypeName()})
	}
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return res, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = canonical(reflect.ValueOf(d).Elem(), types[i].DatabaseTypeName())
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// canonical turns a scanned value into what ClickHouse's JSONCompact format gives for it (as
// decoded with UseNumber): numbers as json.Number, dates and times as their text in the value's
// zone, arrays as []any, NULL as nil.
func canonical(v reflect.Value, typ string) any {
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		if typ == "Date" || typ == "Date32" {
			return t.Format(time.DateOnly)
		}
		return t.Format(time.DateTime)
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		switch f := v.Float(); {
		case math.IsNaN(f):
			return "nan"
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		}
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array:
		inner := strings.TrimSuffix(strings.TrimPrefix(typ, "Array("), ")")
		out := make([]any, v.Len())
		for i := range out {
			out[i] = canonical(v.Index(i), inner)
		}
		return out
	}
	return fmt.Sprint(v.Interface())
}

// compareResults lists the differences between 18.16's result and the current engine's.
func compareResults(old, cur goldenResult) []string {
	var diffs []string
	if len(old.Columns) != len(cur.Columns) {
		return []string{fmt.Sprintf("columns: 18.16 %v, current %v", old.Columns, cur.Columns)}
	}
	for i := range old.Columns {
		if sameType(old.Columns[i].Type) != sameType(cur.Columns[i].Type) {
			diffs = append(diffs, fmt.Sprintf("column %d (%s) type: 18.16 %s, current %s", i+1, old.Columns[i].Name, old.Columns[i].Type, cur.Columns[i].Type))
		}
	}
	if len(old.Rows) != len(cur.Rows) {
		return append(diffs, fmt.Sprintf("rows: 18.16 %d %v, current %d %v", len(old.Rows), old.Rows, len(cur.Rows), cur.Rows))
	}
	for r := range old.Rows {
		for c := range old.Rows[r] {
			if !sameValue(old.Rows[r][c], cur.Rows[r][c]) {
				diffs = append(diffs, fmt.Sprintf("row %d column %d (%s): 18.16 %v, current %v", r+1, c+1, old.Columns[c].Name, old.Rows[r][c], cur.Rows[r][c]))
			}
		}
	}
	return diffs
}

// sameType maps a type name to what it means to clickhouse-go here: 18.16 names the server's own
// zone in the result type of time functions (DateTime('Asia/Shanghai')) where the current engine
// says DateTime, which the driver reads in the server's zone: the same times.
func sameType(typ string) string {
	return strings.ReplaceAll(typ, "DateTime('"+serverZone+"')", "DateTime")
}

// serverZone is the time zone of the test ClickHouse (deploy/clickhouse/config.xml.in) and of the
// replay's chDB (deploy/chdb/chsql.py).
const serverZone = "Asia/Shanghai"

// sameValue compares canonical values; numbers equal when they are the same integer or floats
// within a relative 1e-9 (ClickHouse versions print floats with different digits).
func sameValue(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		if an == bn {
			return true
		}
		af, err1 := strconv.ParseFloat(string(an), 64)
		bf, err2 := strconv.ParseFloat(string(bn), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return math.Abs(af-bf) <= 1e-9*math.Max(math.Abs(af), math.Abs(bf))
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if !sameValue(as[i], bs[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
