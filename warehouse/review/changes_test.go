package review_test

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/warehouse/review"
	"github.com/citypulse/citypulse/warehouse/review/reviewtest"
)

// TestMoveInApproved: a department's new person is listed with its diff, approved into
// dwd_person with the proposed values, and is no longer pending; approving again answers the
// same decision, rejecting it then is a conflict.
func TestMoveInApproved(t *testing.T) {
	conn, svc, reg := setup(t)
	ctx := ctxT(t)
	received := time.Date(2025, 3, 5, 10, 0, 0, 0, cst)
	ids := reviewtest.Stage(t, conn, reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "pk1",
		RegionCode: commA, Source: "gongan", BatchID: "b-pk1", RowNo: 3, Values: person("pk1", "张三", commA), ReceivedAt: received})

	page, err := svc.List(ctx, review.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || len(page.Requests) != 1 || page.Next != "" {
		t.Fatalf("page = total %d, %d requests, next %q; want 1, 1, \"\"", page.Total, len(page.Requests), page.Next)
	}
	r := page.Requests[0]
	if r.ID != ids[0] || r.Kind != review.KindMoveIn || r.Status != review.StatusPending || r.Problem != "" || !r.ReceivedAt.Equal(received) {
		t.Fatalf("request = %+v", r)
	}
	d := diffMap(r.Diff)
	for col, want := range map[string]string{"name": "<nil>→张三", "birth_date": "<nil>→1980-05-06", "region_code": "<nil>→" + commA} {
		if d[col] != want {
			t.Errorf("diff[%s] = %q, want %q", col, d[col], want)
		}
	}
	for _, col := range []string{"identity_key", "source", "batch_id", "row_no", "quality_flags", "received_at", "version", "registered_at"} {
		if _, ok := d[col]; ok {
			t.Errorf("diff lists %s: %v", col, d)
		}
	}

	before := time.Now()
	out, err := svc.Approve(ctx, ids[0], "王社工", "核实无误")
	if err != nil {
		t.Fatal(err)
	}
	if out.Repeated || out.Decision.Decision != review.StatusApproved || out.Decision.Kind != review.KindMoveIn ||
		out.Decision.Reviewer != "王社工" || out.Decision.Dataset != "person" {
		t.Fatalf("outcome = %+v", out)
	}
	got := queryStrings(t, conn, 6, `SELECT name, source, batch_id, toString(birth_date), toString(received_at, 'Asia/Shanghai'), arrayStringConcat(quality_flags, ',')
		FROM dwd_person FINAL WHERE identity_key = 'pk1'`)
	want := []string{"张三", "gongan", "b-pk1", "1980-05-06", "2025-03-05 10:00:00", "dirty_fixed"}
	if !slices.Equal(got, want) {
		t.Errorf("dwd_person row = %q, want %q", got, want)
	}
	if v := queryUint(t, conn, `SELECT version FROM dwd_person FINAL WHERE identity_key = 'pk1'`); v < uint64(before.UnixMilli()) || v > uint64(time.Now().UnixMilli()) {
		t.Errorf("version %d is not the approval time in Unix ms (%d…)", v, before.UnixMilli())
	}
	if page, err = svc.List(ctx, review.ListQuery{}); err != nil || page.Total != 0 || len(page.Requests) != 0 {
		t.Fatalf("after approval: list = %+v, %v; want nothing pending", page, err)
	}
	g, err := svc.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if g.Status != review.StatusApproved || g.Kind != review.KindMoveIn || g.Decision == nil || len(g.Diff) != 0 {
		t.Errorf("get after approval = status %s kind %s decision %v diff %v; want approved move_in, decided, no diff left",
			g.Status, g.Kind, g.Decision, g.Diff)
	}

	again, err := svc.Approve(ctx, ids[0], "李社工", "")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Repeated || again.Decision != out.Decision {
		t.Errorf("second approval = %+v, want the first decision %+v, repeated", again, out.Decision)
	}
	var ce *review.ConflictError
	if _, err := svc.Reject(ctx, ids[0], "李社工", "重复"); !errors.As(err, &ce) || !errors.Is(err, review.ErrConflict) || ce.Existing.Reviewer != "王社工" {
		t.Errorf("reject after approval = %v, want a ConflictError naming 王社工", err)
	}
	if n := queryUint(t, conn, `SELECT count() FROM ods_change_decisions`); n != 1 {
		t.Errorf("%d decisions recorded, want 1", n)
	}
	if n := counter(t, reg, "citypulse_review_decisions_total"); n != 1 {
		t.Errorf("decisions counted %v, want 1", n)
	}
}

// TestUpdateRejectedAndApproved: changes to known houses are updates whose diff names exactly the
// changed columns; a rejection needs a comment and leaves dwd alone; an approval overwrites.
func TestUpdateRejectedAndApproved(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	old := time.Date(2025, 1, 2, 3, 4, 5, 0, cst)
	area := 90.0
	for _, id := range []string{"hk1", "hk2"} {
		insert(t, conn, "dwd_house", map[string]any{"identity_key": id, "region_code": commA, "community_code": commA,
			"address": "水井坊1号" + id, "use": "10", "status": "1", "area": &area, "floor": (*int64)(nil),
			"source": "zhujian", "batch_id": "h0", "received_at": old, "version": uint64(old.UnixMilli())})
	}
	house := func(id string) map[string]any {
		return map[string]any{"identity_key": id, "region_code": commA, "city_code": "", "district_code": "", "street_code": "",
			"community_code": commA, "address": "水井坊1号" + id, "house_no": "", "compound": "", "building": "", "unit": "",
			"floor": "", "room": "", "use": "10", "status": "2", "area": "89.50", "owner_id_card_hash": "", "owner_id_card_masked": "",
			"built_year": nil, "source": "gongan", "batch_id": "h1", "row_no": "1", "quality_flags": []string{}}
	}
	ids := reviewtest.Stage(t, conn,
		reviewtest.Row{Purpose: "change", Dataset: "house", IdentityKey: "hk1", RegionCode: commA, Source: "gongan", BatchID: "h1", RowNo: 1, Values: house("hk1")},
		reviewtest.Row{Purpose: "change", Dataset: "house", IdentityKey: "hk2", RegionCode: commA, Source: "gongan", BatchID: "h1", RowNo: 2, Values: house("hk2")})

	for _, id := range ids {
		r, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"status": "1→2", "area": "90→89.5"} // 89.50 is 89.5; NULL floor is ""
		if r.Kind != review.KindUpdate || !maps.Equal(diffMap(r.Diff), want) {
			t.Errorf("%s: kind %s diff %v, want update %v", id, r.Kind, diffMap(r.Diff), want)
		}
	}

	bad := []struct {
		reviewer, comment, field string
	}{
		{"王社工", "", "comment"},
		{"王社工", "   ", "comment"},
		{"", "地址不符", "reviewer"},
		{"a\x00b", "地址不符", "reviewer"},
	}
	for _, b := range bad {
		var ie *review.InputError
		if _, err := svc.Reject(ctx, ids[0], b.reviewer, b.comment); !errors.As(err, &ie) || ie.Field != b.field {
			t.Errorf("reject by %q with %q = %v, want an InputError on %s", b.reviewer, b.comment, err, b.field)
		}
	}
	rej, err := svc.Reject(ctx, ids[0], "王社工", "地址不符")
	if err != nil || rej.Repeated || rej.Decision.Kind != review.KindUpdate || rej.Decision.Comment != "地址不符" {
		t.Fatalf("reject = %+v, %v", rej, err)
	}
	if again, err := svc.Reject(ctx, ids[0], "王社工", "再次"); err != nil || !again.Repeated || again.Decision.Comment != "地址不符" {
		t.Errorf("second reject = %+v, %v; want the first, repeated", again, err)
	}
	if _, err := svc.Approve(ctx, ids[0], "王社工", ""); !errors.Is(err, review.ErrConflict) {
		t.Errorf("approve after reject = %v, want ErrConflict", err)
	}
	if _, err := svc.Approve(ctx, ids[1], "王社工", ""); err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, conn, 4, `SELECT status, toString(area), ifNull(toString(floor), 'NULL'), source FROM dwd_house FINAL WHERE identity_key = 'hk1'`)
	if want := []string{"1", "90", "NULL", "zhujian"}; !slices.Equal(got, want) {
		t.Errorf("rejected house = %q, want unchanged %q", got, want)
	}
	got = queryStrings(t, conn, 4, `SELECT status, toString(area), ifNull(toString(floor), 'NULL'), source FROM dwd_house FINAL WHERE identity_key = 'hk2'`)
	if want := []string{"2", "89.5", "NULL", "gongan"}; !slices.Equal(got, want) {
		t.Errorf("approved house = %q, want %q", got, want)
	}
	if _, err := svc.Approve(ctx, "00ff", "王社工", ""); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("approve unknown id = %v, want ErrNotFound", err)
	}
	if _, err := svc.Get(ctx, "not-hex"); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("get bad id = %v, want ErrInvalid", err)
	}
}

// counter sums a counter's series.
func counter(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestConcurrentApprovals: approvals of one request racing inside one Service record one
// decision; every caller gets it, all but one as a repeat.
func TestConcurrentApprovals(t *testing.T) {
	conn, svc, _ := setup(t)
	ctx := ctxT(t)
	id := reviewtest.Stage(t, conn, reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "pc",
		RegionCode: commA, Source: "gongan", BatchID: "b", RowNo: 1, Values: person("pc", "并发", commA)})[0]
	const n = 4
	outs := make([]*review.Outcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = svc.Approve(ctx, id, "王社工", "") })
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !outs[i].Repeated {
			fresh++
		}
		if outs[i].Decision != outs[0].Decision {
			t.Errorf("caller %d got %+v, caller 0 %+v", i, outs[i].Decision, outs[0].Decision)
		}
	}
	if fresh != 1 {
		t.Errorf("%d approvals wrote, want 1", fresh)
	}
	if n := queryUint(t, conn, `SELECT count() FROM ods_change_decisions`); n != 1 {
		t.Errorf("%d decision rows, want 1", n)
	}
	if n := queryUint(t, conn, `SELECT count() FROM dwd_person`); n != 1 {
		t.Errorf("%d dwd_person rows written, want 1", n)
	}
}
