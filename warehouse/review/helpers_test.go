package review_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse/review"
)

// Regions of the tests: two communities of one Jinjiang street, one of Qingyang.
const (
	commA = "510104017001"
	commB = "510104017002"
	commQ = "510105001001"
)

var cst = time.FixedZone("CST", 8*3600)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// setup migrates a test warehouse (ods_staged_rows included) and builds a Service.
func setup(t *testing.T) (driver.Conn, *review.Service, *prometheus.Registry) {
	t.Helper()
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	svc, err := review.New(conn, review.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return conn, svc, reg
}

// insert writes one typed row into table.
func insert(t *testing.T, conn driver.Conn, table string, row map[string]any) {
	t.Helper()
	cols := slices.Sorted(maps.Keys(row))
	batch, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = row[c]
	}
	if err := batch.Append(vals...); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
}

// person is the staged form of a dwd_person row (every value a string).
func person(id, name, region string) map[string]any {
	return map[string]any{
		"identity_key": id, "id_card_hash": "h-" + id, "id_card_masked": "510104********1234", "name": name,
		"gender": "1", "birth_date": "1980-05-06", "ethnicity": "01", "marital_status": "20",
		"mobile_hash": "m-" + id, "mobile_masked": "138****5678", "residence_status": "1",
		"region_code": region, "city_code": region[:4] + "00000000", "district_code": region[:6] + "000000",
		"street_code": region[:9] + "000", "community_code": region, "address": "锦江区水井坊街道1号",
		"hukou_address": "", "registered_at": nil, "source": "gongan", "batch_id": "b-" + id, "row_no": "3",
		"quality_flags": []string{"dirty_fixed"},
	}
}

// dwdPerson is the typed dwd_person row of a staged person map, received at the given time.
func dwdPerson(staged map[string]any, received time.Time) map[string]any {
	row := map[string]any{}
	for k, v := range staged {
		row[k] = v
	}
	row["registered_at"] = (*time.Time)(nil)
	row["row_no"] = uint64(1)
	row["received_at"] = received
	row["version"] = uint64(received.UnixMilli())
	return row
}

// queryStrings reads one row of string columns.
func queryStrings(t *testing.T, conn driver.Conn, n int, q string, args ...any) []string {
	t.Helper()
	out := make([]string, n)
	ptrs := make([]any, n)
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := conn.QueryRow(context.Background(), q, args...).Scan(ptrs...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func queryUint(t *testing.T, conn driver.Conn, q string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func str(s string) *string { return &s }

func text(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// diffMap turns a diff into column → "current→proposed".
func diffMap(d []review.FieldDiff) map[string]string {
	out := map[string]string{}
	for _, f := range d {
		out[f.Column] = text(f.Current) + "→" + text(f.Proposed)
	}
	return out
}
