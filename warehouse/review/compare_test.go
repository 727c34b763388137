package review_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse/review"
	"github.com/citypulse/citypulse/warehouse/review/reviewtest"
)

// TestCompare: dwd_person holds a (same as the reference), b (another name), c and e (not in the
// reference; e in another district); the reference batch ref-1 holds a, b and d (not in dwd). An
// older batch of the same source names b differently: by source, the newest row wins.
func TestCompare(t *testing.T) {
	conn, svc, reg := setup(t)
	ctx := ctxT(t)
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, cst)
	dwd := map[string]map[string]any{"a": person("a", "甲", commA), "b": person("b", "李四", commA), "c": person("c", "丙", commB), "e": person("e", "戊", commQ)}
	for _, p := range dwd {
		insert(t, conn, "dwd_person", dwdPerson(p, old))
	}
	ref := func(batch, id, name string, rowNo uint64, at time.Time) reviewtest.Row {
		p := person(id, name, commA)
		p["source"], p["batch_id"], p["row_no"], p["quality_flags"] = "minzheng", batch, "7", []string{"code_mapped"}
		return reviewtest.Row{Purpose: "reference", Dataset: "person", IdentityKey: id, RegionCode: commA, Source: "minzheng",
			BatchID: batch, RowNo: rowNo, Values: p, ReceivedAt: at}
	}
	t1, t2 := old.Add(time.Hour), old.Add(2*time.Hour)
	reviewtest.Stage(t, conn,
		ref("ref-0", "b", "旧名", 1, t1),
		ref("ref-1", "a", "甲", 1, t2), ref("ref-1", "b", "李肆", 2, t2), ref("ref-1", "d", "丁", 3, t2),
		// a pending change of the same person is no reference
		reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "c", RegionCode: commB, Source: "gongan", BatchID: "x", Values: person("c", "变", commB)})

	type outcome struct {
		same, differs, missingDWD uint64
		missingRef                int // -1: not counted
		rows                      []string
		next                      string
	}
	tests := []struct {
		name string
		q    review.CompareQuery
		want outcome
	}{
		{"batch", review.CompareQuery{Batch: "ref-1"}, outcome{1, 1, 1, -1, []string{"b differs", "d missing_in_dwd"}, ""}},
		{"source, newest wins", review.CompareQuery{Source: "minzheng"}, outcome{1, 1, 1, -1, []string{"b differs", "d missing_in_dwd"}, ""}},
		{"older batch", review.CompareQuery{Batch: "ref-0"}, outcome{0, 1, 0, -1, []string{"b differs"}, ""}},
		{"missing from reference, district", review.CompareQuery{Batch: "ref-1", Region: "510104", MissingFromReference: true},
			outcome{1, 1, 1, 1, []string{"b differs", "c missing_in_reference", "d missing_in_dwd"}, ""}},
		{"missing from reference, city", review.CompareQuery{Batch: "ref-1", MissingFromReference: true},
			outcome{1, 1, 1, 2, []string{"b differs", "c missing_in_reference", "d missing_in_dwd", "e missing_in_reference"}, ""}},
		{"status", review.CompareQuery{Source: "minzheng", Status: review.CompareMissingInDWD}, outcome{1, 1, 1, -1, []string{"d missing_in_dwd"}, ""}},
		{"page 1", review.CompareQuery{Batch: "ref-1", MissingFromReference: true, Limit: 2}, outcome{1, 1, 1, 2, []string{"b differs", "c missing_in_reference"}, "c"}},
		{"page 2", review.CompareQuery{Batch: "ref-1", MissingFromReference: true, Limit: 2, After: "c"}, outcome{1, 1, 1, 2, []string{"d missing_in_dwd", "e missing_in_reference"}, ""}},
		{"other region", review.CompareQuery{Batch: "ref-1", Region: "510105"}, outcome{0, 0, 0, -1, nil, ""}},
		{"unknown batch", review.CompareQuery{Batch: "nope"}, outcome{0, 0, 0, -1, nil, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Dataset = "person"
			c, err := svc.Compare(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := outcome{c.Same, c.Differs, c.MissingInDWD, -1, nil, c.Next}
			if c.MissingInReference != nil {
				got.missingRef = int(*c.MissingInReference)
			}
			for _, r := range c.Rows {
				got.rows = append(got.rows, r.IdentityKey+" "+r.Status)
			}
			if got.same != tt.want.same || got.differs != tt.want.differs || got.missingDWD != tt.want.missingDWD ||
				got.missingRef != tt.want.missingRef || !slices.Equal(got.rows, tt.want.rows) || got.next != tt.want.next {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if c.Reference != c.Same+c.Differs+c.MissingInDWD {
				t.Errorf("reference_records %d ≠ same + differs + missing_in_dwd", c.Reference)
			}
			for _, r := range c.Rows {
				switch r.Status {
				case review.CompareDiffers:
					want := "李肆"
					if tt.q.Batch == "ref-0" {
						want = "旧名"
					}
					if len(r.Diff) != 1 || r.Diff[0].Column != "name" || text(r.Diff[0].Current) != "李四" || text(r.Diff[0].Reference) != want {
						t.Errorf("b: diff %+v, want only name 李四 → %s", r.Diff, want)
					}
				case review.CompareMissingInDWD:
					if text(r.Reference["name"]) != "丁" || r.ReferenceBatch != "ref-1" || r.ReferenceRowNo != 3 {
						t.Errorf("d: reference %v from %s row %d", r.Reference["name"], r.ReferenceBatch, r.ReferenceRowNo)
					}
				case review.CompareMissingInReference:
					if r.Current["name"] == nil || r.Current["identity_key"] == nil || *r.Current["identity_key"] != r.IdentityKey {
						t.Errorf("%s: current row %v", r.IdentityKey, r.Current)
					}
				}
			}
		})
	}
	if n := counter(t, reg, "citypulse_review_compared_records_total"); n == 0 {
		t.Error("compared records not counted")
	}

	bad := []struct {
		q     review.CompareQuery
		field string
	}{
		{review.CompareQuery{Dataset: "person"}, "batch"},
		{review.CompareQuery{Dataset: "nosuch", Batch: "ref-1"}, "dataset"},
		{review.CompareQuery{Dataset: "Person", Batch: "ref-1"}, "dataset"},
		{review.CompareQuery{Dataset: "person", Batch: "ref-1", Status: review.CompareMissingInReference}, "status"},
		{review.CompareQuery{Dataset: "person", Batch: "ref-1", Status: "same"}, "status"},
		{review.CompareQuery{Dataset: "person", Batch: "ref-1", Region: "x"}, "region"},
		{review.CompareQuery{Dataset: "person", Batch: "ref-1", Limit: 1000}, "limit"},
	}
	for _, b := range bad {
		var ie *review.InputError
		if _, err := svc.Compare(ctx, b.q); !errors.As(err, &ie) || ie.Field != b.field {
			t.Errorf("Compare(%+v) = %v, want an InputError on %s", b.q, err, b.field)
		}
	}
}
