package review_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse/review"
	"github.com/citypulse/citypulse/warehouse/review/reviewtest"
)

// relation is a dwd_person_house row (migration 0006) as the pipeline stages it.
func relation(id, moveOut, batch string) map[string]any {
	return map[string]any{"identity_key": id, "id_card_hash": "h-" + id, "id_card_masked": "510104********1234",
		"region_code": commA, "city_code": "510100000000", "district_code": "510104000000", "street_code": "510104017000",
		"community_code": commA, "address": "水井坊街道1号", "relation": "10", "is_householder": "1",
		"move_in_date": "2020-01-01", "move_out_date": moveOut, "source": "gongan", "batch_id": batch, "row_no": "1",
		"quality_flags": []string{}}
}

// TestMoveInThenMoveOut: a department reports a person moving into a house (move_in), the
// community approves it into dwd_person_house; the department later reports the move-out
// (move_out), approved too: dwd_person_house then holds the move-out date.
func TestMoveInThenMoveOut(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	stage := func(batch, moveOut string) string {
		return reviewtest.Stage(t, conn, reviewtest.Row{Purpose: "change", Dataset: "person_house", IdentityKey: "ph1",
			RegionCode: commA, Source: "gongan", BatchID: batch, RowNo: 1, Values: relation("ph1", moveOut, batch)})[0]
	}
	steps := []struct {
		batch, moveOut, kind, want string
	}{
		{"in", "", review.KindMoveIn, "open"},
		{"out", "2025-03-01", review.KindMoveOut, "2025-03-01"},
		{"fix", "2025-03-02", review.KindUpdate, "2025-03-02"}, // already closed: a correction
	}
	for _, st := range steps {
		id := stage(st.batch, st.moveOut)
		page, err := svc.List(ctx, review.ListQuery{Dataset: "person_house"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Requests) != 1 || page.Requests[0].ID != id || page.Requests[0].Kind != st.kind {
			t.Fatalf("%s: pending = %+v, want one %s", st.batch, page.Requests, st.kind)
		}
		if out, err := svc.Approve(ctx, id, "王社工", ""); err != nil || out.Decision.Kind != st.kind {
			t.Fatalf("%s: approve = %+v, %v", st.batch, out, err)
		}
		got := queryStrings(t, conn, 2, `SELECT batch_id, if(isNull(move_out_date) OR move_out_date = '', 'open', assumeNotNull(move_out_date))
			FROM dwd_person_house FINAL WHERE identity_key = 'ph1'`)
		if want := []string{st.batch, st.want}; !slices.Equal(got, want) {
			t.Errorf("%s: dwd_person_house = %q, want %q", st.batch, got, want)
		}
	}
}

// TestListFilters: dataset, region prefix and time filters, and pages that walk every request.
func TestListFilters(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, cst)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	rowNo := uint64(0)
	row := func(dataset, id, region string, h int) reviewtest.Row {
		rowNo++
		return reviewtest.Row{Purpose: "change", Dataset: dataset, IdentityKey: id, RegionCode: region, Source: "gongan",
			BatchID: "b", RowNo: rowNo, Values: person(id, "某人", region), ReceivedAt: at(h)}
	}
	ids := reviewtest.Stage(t, conn,
		row("person", "p1", commA, 1), row("person", "p2", commB, 2), row("person", "p3", commQ, 3),
		row("house", "h4", commA, 4), row("person", "p5", commA, 5), row("person", "p6", commA, 5))
	reviewtest.Stage(t, conn, reviewtest.Row{Purpose: "reference", Dataset: "person", IdentityKey: "r", RegionCode: commA,
		Source: "minzheng", BatchID: "ref", Values: person("r", "参考", commA)})
	// ids[4] and ids[5] share a receive time: their order is by id.
	same := []string{ids[4], ids[5]}
	slices.Sort(same)
	all := []string{ids[0], ids[1], ids[2], ids[3], same[0], same[1]}

	tests := []struct {
		name string
		q    review.ListQuery
		want []string
	}{
		{"all", review.ListQuery{}, all},
		{"dataset", review.ListQuery{Dataset: "house"}, []string{ids[3]}},
		{"district", review.ListQuery{Region: "510104"}, []string{ids[0], ids[1], ids[3], same[0], same[1]}},
		{"community", review.ListQuery{Region: commB}, []string{ids[1]}},
		{"other district", review.ListQuery{Region: "510105", Dataset: "person"}, []string{ids[2]}},
		{"window", review.ListQuery{From: at(2), To: at(4)}, []string{ids[1], ids[2]}},
		{"from", review.ListQuery{From: at(5)}, same},
		{"nothing", review.ListQuery{Region: "5102"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{0, 1, 2} {
				q := tt.q
				q.Limit = limit
				var got []string
				for pages := 0; ; pages++ {
					page, err := svc.List(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if page.Total != uint64(len(tt.want)) {
						t.Errorf("limit %d: total %d, want %d", limit, page.Total, len(tt.want))
					}
					for _, r := range page.Requests {
						got = append(got, r.ID)
					}
					if page.Next == "" || pages > len(all) {
						break
					}
					q.After = page.Next
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("limit %d: ids %q, want %q", limit, got, tt.want)
				}
			}
		})
	}

	bad := []struct {
		q     review.ListQuery
		field string
	}{
		{review.ListQuery{Dataset: "Person"}, "dataset"},
		{review.ListQuery{Region: "51a"}, "region"},
		{review.ListQuery{Region: "5101040170011"}, "region"},
		{review.ListQuery{Limit: review.MaxLimit + 1}, "limit"},
		{review.ListQuery{Limit: -1}, "limit"},
		{review.ListQuery{After: "yesterday"}, "after"},
	}
	for _, b := range bad {
		var ie *review.InputError
		if _, err := svc.List(ctx, b.q); !errors.As(err, &ie) || ie.Field != b.field {
			t.Errorf("List(%+v) = %v, want an InputError on %s", b.q, err, b.field)
		}
	}
}

// TestAllColumnTypes: every column type review handles goes from a staged row into dwd and reads
// back equal (Get shows no diff after approval), NULLs and defaults included.
func TestAllColumnTypes(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	if err := conn.Exec(ctx, `CREATE TABLE dwd_typetest (identity_key String, s String, d Date, dt DateTime,
		ns Nullable(String), nd Nullable(Date), ndt Nullable(DateTime), u8 UInt8, u64 UInt64, i64 Int64, f64 Float64,
		ni Nullable(Int64), nf Nullable(Float64), region_code String, source String, batch_id String, row_no UInt64,
		quality_flags Array(String), received_at DateTime, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY identity_key`); err != nil {
		t.Fatal(err)
	}
	full := map[string]any{"s": "文字", "d": "2024-02-29", "dt": "2024-03-05 00:30:00", "ns": "", "nd": "1999-12-31",
		"ndt": "2024-12-31 23:59:59", "u8": "1", "u64": "18446744073709551615", "i64": "-7", "f64": "0.1",
		"ni": "42", "nf": "-2.5", "region_code": commA, "source": "s", "batch_id": "b", "row_no": "9", "quality_flags": []string{"a", "b"}}
	empty := map[string]any{"s": "", "d": "", "dt": "", "ns": nil, "nd": "", "ndt": nil, "u8": "0", "u64": "0", "i64": "0",
		"f64": "0", "ni": "", "nf": nil, "region_code": commA, "source": "s", "batch_id": "b", "row_no": "10"}
	ids := reviewtest.Stage(t, conn,
		reviewtest.Row{Purpose: "change", Dataset: "typetest", IdentityKey: "full", RegionCode: commA, Source: "s", BatchID: "b", RowNo: 9, Values: full},
		reviewtest.Row{Purpose: "change", Dataset: "typetest", IdentityKey: "empty", RegionCode: commA, Source: "s", BatchID: "b", RowNo: 10, Values: empty})
	for _, id := range ids {
		if _, err := svc.Approve(ctx, id, "王社工", ""); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Diff) != 0 || r.Problem != "" {
			t.Errorf("%s after approval: diff %v problem %q, want none", r.IdentityKey, diffMap(r.Diff), r.Problem)
		}
	}
	got := queryStrings(t, conn, 6, `SELECT toString(d), toString(dt, 'Asia/Shanghai'), toString(nd), toString(u64), toString(f64), arrayStringConcat(quality_flags, ',')
		FROM dwd_typetest FINAL WHERE identity_key = 'full'`)
	if want := []string{"2024-02-29", "2024-03-05 00:30:00", "1999-12-31", "18446744073709551615", "0.1", "a,b"}; !slices.Equal(got, want) {
		t.Errorf("full row = %q, want %q", got, want)
	}
	if n := queryUint(t, conn, `SELECT count() FROM dwd_typetest FINAL WHERE identity_key = 'empty' AND isNull(ns) AND isNull(nd) AND isNull(ndt) AND isNull(ni) AND isNull(nf) AND d = toDate('1970-01-01')`); n != 1 {
		t.Errorf("empty row: NULLs and defaults not as staged (%d rows match)", n)
	}
}

// TestUnusableRow: a staged row whose value does not fit its column is shown with a problem,
// cannot be approved, and can be rejected.
func TestUnusableRow(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	p := person("bad", "某人", commA)
	p["registered_at"] = "2024-13-45 25:00:00"
	ids := reviewtest.Stage(t, conn,
		reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "bad", RegionCode: commA, Source: "gongan", BatchID: "b", RowNo: 1, Values: p},
		reviewtest.Row{Purpose: "change", Dataset: "nosuch", IdentityKey: "x", RegionCode: commA, Source: "gongan", BatchID: "b", RowNo: 2, Values: p})
	page, err := svc.List(ctx, review.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Requests {
		if r.Problem == "" {
			t.Errorf("%s: no problem shown", r.Dataset)
		}
	}
	for _, id := range ids {
		if _, err := svc.Approve(ctx, id, "王社工", ""); !errors.Is(err, review.ErrUnusable) {
			t.Errorf("approve = %v, want ErrUnusable", err)
		}
		if _, err := svc.Reject(ctx, id, "王社工", "数据有误"); err != nil {
			t.Errorf("reject = %v", err)
		}
	}
	if n := dwdCount(t, conn, "dwd_person"); n != 0 {
		t.Errorf("dwd_person has %d rows, want 0", n)
	}
}

func dwdCount(t *testing.T, conn driver.Conn, table string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
