package community

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/ingest/feeds"
	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/cleaning"
	"github.com/citypulse/citypulse/warehouse/review"
)

// untouched returns up to n valid records of a source's dataset that the ground truth does not
// name at all (no defect, no dirt, not the original of a police copy) and that keep.
func untouched(c *city, tr *truth, source, dataset string, n int, keep func(map[string]string) bool) []rowKey {
	named := map[rowKey]bool{}
	for _, d := range c.truth {
		named[keyOf(d.Key)] = true
		if d.Of != nil {
			named[keyOf(*d.Of)] = true
		}
	}
	var out []rowKey
	for _, k := range c.validRows(tr, source, dataset) {
		if len(out) == n {
			break
		}
		if !named[k] && keep(c.record(k)) {
			out = append(out, k)
		}
	}
	return out
}

// writeCSV writes rows of a dataset as a standard-named UTF-8 CSV file.
func writeCSV(t *testing.T, dataset string, rows []map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), dataset+".csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sim.NewCSVWriter(f, dataset, sim.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// identityOf is the identity key of the dwd FINAL row that holds the record k.
func identityOf(t *testing.T, conn driver.Conn, bs batches, k rowKey) string {
	t.Helper()
	for _, r := range readDWD(t, conn, bs, k.Dataset) {
		if r.rowKey == k {
			return r.IdentityKey
		}
	}
	t.Fatalf("%v is not in dwd FINAL", k)
	return ""
}

// rowText is a dwd FINAL row as column → text (NULL for NULL).
func rowText(t *testing.T, conn driver.Conn, table, identity string) map[string]string {
	t.Helper()
	names, exprs := textColumns(t, conn, table)
	rows, err := conn.Query(context.Background(), `SELECT `+strings.Join(exprs, ", ")+` FROM `+table+` FINAL WHERE identity_key = ?`, identity)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	n := 0
	for rows.Next() {
		n++
		vals := make([]string, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range names {
			out[c] = vals[i]
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%s FINAL: %d rows of identity %s, want 1", table, n, identity)
	}
	return out
}

// reviewLineage are the columns an approval renews besides the changed ones.
var reviewLineage = []string{"source", "batch_id", "row_no", "quality_flags", "received_at", "version"}

// checkChangeRequests: a department source allowed person_house pushes two move-outs of people
// who live somewhere per dwd_person_house; the pipeline stages them; review lists both as
// move_out with the move-out date as the only difference; the approved one sets move_out_date
// in dwd_person_house FINAL, the rejected one changes nothing.
func checkChangeRequests(t *testing.T, conn driver.Conn, runner *pipelines.Runner, gw *gateway, c *city, tr *truth, bs batches) {
	ctx := context.Background()
	const moveOut = "2026-03-01"
	picks := untouched(c, tr, sim.SourceCommunity, sim.DatasetPersonHouse, 2, func(r map[string]string) bool { return r["move_out_date"] == "" })
	if len(picks) != 2 {
		t.Fatalf("found %d open relations to move out of", len(picks))
	}
	table := cleaning.Specs[sim.DatasetPersonHouse].Table
	var rows []map[string]string
	ids, before := make([]string, 2), make([]map[string]string, 2)
	for i, k := range picks {
		ids[i] = identityOf(t, conn, bs, k)
		before[i] = rowText(t, conn, table, ids[i])
		if before[i]["move_out_date"] != "NULL" {
			t.Fatalf("%v: dwd_person_house has move_out_date %s, want an open relation", k, before[i]["move_out_date"])
		}
		row := maps.Clone(c.record(k))
		row["move_out_date"] = moveOut
		rows = append(rows, row)
	}
	gw.register(t, feeds.Source{ID: "minzheng", Name: "区民政局（测试）", Kind: feeds.KindDepartment,
		Datasets: map[string]feeds.DatasetConfig{sim.DatasetPersonHouse: {KeyField: "id_card"}}})
	m := gw.push(t, "minzheng", sim.DatasetPersonHouse, writeCSV(t, sim.DatasetPersonHouse, rows), "csv", 2)
	res := runOnce(t, runner)
	if cr := res.Clean[sim.DatasetPersonHouse]; cr.Changes != 2 || cr.StagedRows != 2 || cr.Written != 0 {
		t.Fatalf("person_house cleaning %+v, want 2 changes staged and nothing loaded", *cr)
	}

	svc, err := review.New(conn, review.Options{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := svc.List(ctx, review.ListQuery{Dataset: sim.DatasetPersonHouse})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || len(page.Requests) != 2 {
		t.Fatalf("pending %+v, want the 2 move-outs", page)
	}
	byIdentity := map[string]review.Request{}
	for _, r := range page.Requests {
		byIdentity[r.IdentityKey] = r
		d := r.Diff
		if r.Kind != review.KindMoveOut || r.Source != "minzheng" || r.BatchID != m.BatchID || len(d) != 1 ||
			d[0].Column != "move_out_date" || d[0].Current != nil || d[0].Proposed == nil || *d[0].Proposed != moveOut {
			t.Errorf("request %s: kind %s from %s/%s, diff %s; want a move_out of minzheng/%s changing move_out_date only",
				r.ID, r.Kind, r.Source, r.BatchID, diffText(d), m.BatchID)
		}
	}
	approve, reject := byIdentity[ids[0]], byIdentity[ids[1]]
	if approve.ID == "" || reject.ID == "" {
		t.Fatalf("requests are for identities %v, want %v", slices.Collect(maps.Keys(byIdentity)), ids)
	}
	if out, err := svc.Approve(ctx, approve.ID, "王社工", "已核实搬离"); err != nil || out.Decision.Kind != review.KindMoveOut {
		t.Fatalf("approve: %+v, %v", out, err)
	}
	if _, err := svc.Reject(ctx, reject.ID, "王社工", "经核实仍在住"); err != nil {
		t.Fatalf("reject: %v", err)
	}

	after := rowText(t, conn, table, ids[0])
	if after["move_out_date"] != moveOut || after["source"] != "minzheng" {
		t.Errorf("approved: move_out_date %s from %s, want %s from minzheng", after["move_out_date"], after["source"], moveOut)
	}
	for col, v := range before[0] {
		if col != "move_out_date" && !slices.Contains(reviewLineage, col) && after[col] != v {
			t.Errorf("approved: %s = %q, was %q", col, after[col], v)
		}
	}
	if got := rowText(t, conn, table, ids[1]); !maps.Equal(got, before[1]) {
		t.Errorf("rejected: dwd_person_house row changed:\n%v\nwas\n%v", got, before[1])
	}
	if page, err := svc.List(ctx, review.ListQuery{Dataset: sim.DatasetPersonHouse}); err != nil || page.Total != 0 {
		t.Errorf("pending after the decisions: %+v, %v", page, err)
	}
}

func diffText(d []review.FieldDiff) string {
	var parts []string
	for _, f := range d {
		parts = append(parts, fmt.Sprintf("%s: %s → %s", f.Column, textOf(f.Current), textOf(f.Proposed)))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func textOf(p *string) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *p)
}

// checkReference: a reference source pushes people: three as dwd has them, one with another
// name, one with another mobile, and one dwd lacks. Compare lists the two that differ with the
// differing fields, and the missing one; nothing is loaded.
func checkReference(t *testing.T, conn driver.Conn, runner *pipelines.Runner, gw *gateway, c *city, tr *truth, bs batches) {
	ctx := context.Background()
	// People born since 1970: an earlier birth date does not fit dwd_person's Date column (see
	// checkBirthDates), and Compare refuses such a staged row.
	picks := untouched(c, tr, sim.SourceCommunity, sim.DatasetPerson, 5, func(r map[string]string) bool {
		return r["mobile"] != "" && r["id_card"][6:10] >= "1970"
	})
	if len(picks) != 5 {
		t.Fatalf("found %d people to refer to", len(picks))
	}
	var rows []map[string]string
	ids := map[string]string{} // identity key → what the reference changed
	for i, k := range picks {
		row := maps.Clone(c.record(k))
		change := "same"
		switch i {
		case 3:
			row["name"], change = row["name"]+"华", "name"
		case 4:
			row["mobile"], change = mobileOtherThan(row["mobile"]), "mobile"
		}
		ids[identityOf(t, conn, bs, k)] = change
		rows = append(rows, row)
	}
	missing := maps.Clone(rows[0])
	missing["id_card"], missing["name"] = residentID(rows[0]["id_card"][:14]+"999"), "新来人"
	missing["gender"], missing["birth_date"] = "", ""
	rows = append(rows, missing)

	gw.register(t, feeds.Source{ID: "gongan-ref", Name: "公安人口库（参照，测试）", Kind: feeds.KindReference,
		Datasets: map[string]feeds.DatasetConfig{sim.DatasetPerson: {KeyField: "id_card"}}})
	before := checksum(t, conn, cleaning.Specs[sim.DatasetPerson].Table)
	m := gw.push(t, "gongan-ref", sim.DatasetPerson, writeCSV(t, sim.DatasetPerson, rows), "csv", len(rows))
	res := runOnce(t, runner)
	if cr := res.Clean[sim.DatasetPerson]; cr.References != 6 || cr.StagedRows != 6 || cr.Written != 0 {
		t.Fatalf("person cleaning %+v, want 6 references staged and nothing loaded", *cr)
	}
	if after := checksum(t, conn, cleaning.Specs[sim.DatasetPerson].Table); after != before {
		t.Errorf("the reference feed changed dwd_person: %+v, was %+v", after, before)
	}

	svc, err := review.New(conn, review.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := svc.Compare(ctx, review.CompareQuery{Dataset: sim.DatasetPerson, Batch: m.BatchID})
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Reference != 6 || cmp.Same != 3 || cmp.Differs != 2 || cmp.MissingInDWD != 1 || len(cmp.Rows) != 3 {
		t.Fatalf("comparison: %d reference records, %d same, %d differ, %d missing in dwd, %d rows listed; want 6, 3, 2, 1, 3",
			cmp.Reference, cmp.Same, cmp.Differs, cmp.MissingInDWD, len(cmp.Rows))
	}
	for _, r := range cmp.Rows {
		if r.Status == review.CompareMissingInDWD {
			if r.Reference["name"] == nil || *r.Reference["name"] != "新来人" || r.ReferenceBatch != m.BatchID {
				t.Errorf("missing record: %+v, want the reference's 新来人", r)
			}
			continue
		}
		fields := map[string]bool{}
		for _, d := range r.Diff {
			f := d.Column
			for _, suffix := range []string{"_hash", "_masked", "_enc"} {
				f = strings.TrimSuffix(f, suffix)
			}
			fields[f] = true
		}
		if want := ids[r.IdentityKey]; r.Status != review.CompareDiffers || len(fields) != 1 || !fields[want] {
			t.Errorf("identity %s (%s changed): %s with differing fields %v", r.IdentityKey, want, r.Status, slices.Collect(maps.Keys(fields)))
		}
	}
}

// mobileOtherThan is a valid mobile number other than m.
func mobileOtherThan(m string) string {
	if m == "13912345678" {
		return "13987654321"
	}
	return "13912345678"
}

// residentID completes 17 digits with their ISO 7064 MOD 11-2 check character.
func residentID(first17 string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return first17 + string("10X98765432"[sum%11])
}
