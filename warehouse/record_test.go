package warehouse_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

func TestNormalizeDatabase(t *testing.T) {
	for _, tt := range []struct{ sql, db, want string }{
		{"SELECT 1 FROM `cp`.t", "cp", "SELECT 1 FROM {db}.t"},
		{"SELECT 1 FROM t", "cp", "SELECT 1 FROM t"},
		{"DROP DATABASE IF EXISTS `test_x_y_0a1b2c3d`", "default", "DROP DATABASE IF EXISTS {db}"},
		{"SELECT * FROM test_foo_deadbeef.events", "default", "SELECT * FROM {db}.events"},
		{"SELECT name FROM system.tables WHERE database = 'test_foo_deadbeef'", "test_foo_deadbeef",
			"SELECT name FROM system.tables WHERE database = '{dbname}'"},
		{"SELECT 'test_not_a_db'", "default", "SELECT 'test_not_a_db'"},
		{"CREATE DATABASE IF NOT EXISTS `default`", "default", "CREATE DATABASE IF NOT EXISTS `default`"},
	} {
		if got := warehouse.NormalizeDatabaseForTest(tt.sql, tt.db); got != tt.want {
			t.Errorf("normalize(%q, %q) = %q, want %q", tt.sql, tt.db, got, tt.want)
		}
	}
}

// bindCases are the parameter types CityPulse passes; each literal must be what clickhouse-go
// splices in for it.
var bindCases = []struct {
	name string
	v    any
	want string
}{
	{"string", "it's \\ ok", `'it\'s \\ ok'`},
	{"int", 42, "42"},
	{"uint32", uint32(7), "7"},
	{"int64 negative", int64(-3), "-3"},
	{"float64", 1.5, "cast(1.5, 'Float64')"},
	{"float64 whole", 2.0, "cast(2, 'Float64')"},
	{"bool", true, "1"},
	{"nil", nil, "NULL"},
	{"strings", []string{"a", "b'c"}, `['a', 'b\'c']`},
	{"empty strings", []string{}, "[]"},
	{"uint32s", []uint32{1, 2}, "[1, 2]"},
	{"group set", clickhouse.GroupSet{Value: []any{"x", 1}}, "('x', 1)"},
	{"time UTC", time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC), "toDateTime('2024-05-01 08:30:00', 'UTC')"},
	{"time server zone", time.Date(2024, 5, 1, 8, 30, 0, 0, shanghai()), "toDateTime('2024-05-01 08:30:00')"},
	{"time local", time.Unix(1714552200, 0), "toDateTime('1714552200')"},
	{"duration-like stringer", stringer("s"), "'s'"},
}

type stringer string

func (s stringer) String() string { return string(s) }

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}

func TestBindLiteral(t *testing.T) {
	for _, tt := range bindCases {
		got, err := warehouse.BindLiteralForTest(shanghai(), tt.v)
		if err != nil || got != tt.want {
			t.Errorf("%s: bindLiteral(%#v) = %q, %v; want %q", tt.name, tt.v, got, err, tt.want)
		}
	}
}

// TestBindLiteralMatchesDriver checks on the server that each recorded literal means what the
// driver's own binding of the value means: same type, same value.
func TestBindLiteralMatchesDriver(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bindCases {
		if _, ok := tt.v.(clickhouse.GroupSet); ok {
			continue // only valid after IN
		}
		lit, err := warehouse.BindLiteralForTest(v.Timezone, tt.v)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var viaDriver, viaLiteral string
		if err := conn.QueryRow(ctx, "SELECT concat(toTypeName(?), ' ', ifNull(toString(?), 'NULL'))", tt.v, tt.v).Scan(&viaDriver); err != nil {
			t.Fatalf("%s via driver: %v", tt.name, err)
		}
		q := fmt.Sprintf("SELECT concat(toTypeName(%s), ' ', ifNull(toString(%s), 'NULL'))", lit, lit)
		if err := conn.QueryRow(ctx, q).Scan(&viaLiteral); err != nil {
			t.Fatalf("%s: %s: %v", tt.name, q, err)
		}
		if viaDriver != viaLiteral {
			t.Errorf("%s: driver binds %q, recorded literal %s gives %q", tt.name, viaDriver, lit, viaLiteral)
		}
	}
}

// TestRecorder sends statements through a recording connection from several goroutines and reads
// the recording back: each distinct statement once, database names normalised, server errors and
// batch columns kept.
func TestRecorder(t *testing.T) {
	cfg, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	rec, err := warehouse.NewRecorder(dir)
	if err != nil {
		t.Fatal(err)
	}
	rc := warehouse.Record(conn, rec, cfg.Database)
	db := warehouse.QuoteIdent(cfg.Database)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				var n uint64
				if err := rc.QueryRow(ctx, "SELECT count() FROM "+db+".dim_region WHERE code = ?", fmt.Sprint(i)).Scan(&n); err != nil {
					t.Error(err)
				}
				var names []struct {
					Name string `ch:"name"`
				}
				if err := rc.Select(ctx, &names, "SELECT name FROM system.tables WHERE database = @db", clickhouse.Named("db", cfg.Database)); err != nil {
					t.Error(err)
				}
				if err := rc.Exec(ctx, "SELEC 1"); err == nil {
					t.Error("SELEC 1: no error")
				}
				b, err := rc.PrepareBatch(ctx, "INSERT INTO dim_service (service_id, name, category, loaded_at)")
				if err != nil {
					t.Error(err)
					return
				}
				_ = b.Abort()
			}
		}()
	}
	wg.Wait()
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("recording files %v, want one", files)
	}
	got := readRecording(t, files[0])
	if len(got) != 4 {
		t.Fatalf("recorded %d statements, want 4 distinct: %+v", len(got), got)
	}
	byOp := map[string]warehouse.RecordedStatement{}
	for i, s := range got {
		if s.Seq != i+1 {
			t.Errorf("line %d has seq %d", i+1, s.Seq)
		}
		if strings.Contains(s.SQL, cfg.Database) {
			t.Errorf("database name not normalised: %s", s.SQL)
		}
		byOp[s.Op] = s
	}
	if s := byOp["query_row"]; s.SQL != "SELECT count() FROM {db}.dim_region WHERE code = ?" ||
		len(s.Args) != 1 || s.Args[0].Type != "string" || s.Outcome != "ok" {
		t.Errorf("query_row recorded as %+v", s)
	}
	if s := byOp["select"]; len(s.Args) != 1 || s.Args[0].Name != "db" || s.Args[0].Literal != "'{dbname}'" {
		t.Errorf("select recorded as %+v", s)
	}
	if s := byOp["exec"]; s.Outcome != "server_error" || s.Code != 62 {
		t.Errorf("exec of a syntax error recorded as %+v", s)
	}
	wantCols := []warehouse.RecordedColumn{{Name: "service_id", Type: "UInt32"}, {Name: "name", Type: "String"},
		{Name: "category", Type: "String"}, {Name: "loaded_at", Type: "DateTime"}}
	if s := byOp["batch"]; fmt.Sprint(s.Columns) != fmt.Sprint(wantCols) {
		t.Errorf("batch columns %v, want %v", s.Columns, wantCols)
	}
}

func readRecording(t *testing.T, path string) []warehouse.RecordedStatement {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []warehouse.RecordedStatement
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var s warehouse.RecordedStatement
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenRecordsWhenSet checks the setting: with it, Open's connections record into the directory.
func TestOpenRecordsWhenSet(t *testing.T) {
	if os.Getenv(warehouse.RecordStatementsEnv) != "" {
		t.Skip("the whole run records already")
	}
	cfg, _ := testenv.Warehouse(t)
	dir := t.TempDir()
	t.Setenv(warehouse.RecordStatementsEnv, dir)
	ctx := testCtx(t)
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "SELECT 1 FROM dim_region LIMIT 0"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "statements-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("recording files %v, want one", files)
	}
	if got := readRecording(t, files[0]); len(got) != 1 || got[0].SQL != "SELECT 1 FROM dim_region LIMIT 0" {
		t.Errorf("recorded %+v", got)
	}
}
