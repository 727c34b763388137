package apiserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse/review"
	"github.com/citypulse/citypulse/warehouse/review/reviewtest"
)

const (
	changesPath = "/api/v1/community/changes"
	comparePath = "/api/v1/community/compare"
	jinjiangA   = "510104017001"
)

// testAdminToken is the api-admin-token of the test servers.
const testAdminToken = "test-admin-token-0123456789"

// stagedPerson is a dwd_person row as the cleaning pipeline stages it (values as strings).
func stagedPerson(id, name, source, batch string) map[string]any {
	return map[string]any{"identity_key": id, "id_card_hash": "h-" + id, "id_card_masked": "510104********1234",
		"name": name, "gender": "2", "birth_date": "1990-01-02", "region_code": jinjiangA, "city_code": "510100000000",
		"district_code": "510104000000", "street_code": "510104017000", "community_code": jinjiangA,
		"address": "水井坊街道2号", "registered_at": "2024-06-01 09:30:00", "source": source, "batch_id": batch, "row_no": "1",
		"quality_flags": []string{}}
}

// newReviewServer: a migrated warehouse with two pending changes (a new person p1, a new house
// h1), one change whose birth date is no date (bad), and a reference batch ref-1 (p1 with
// another name, p9 unknown to dwd); the server with the review endpoints mounted.
func newReviewServer(t *testing.T) (http.Handler, driver.Conn, map[string]string) {
	t.Helper()
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	cfg := apiserver.DefaultConfig()
	cfg.AdminToken = testAdminToken
	s, err := apiserver.New(conn, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MountReview(review.Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if err := s.MountReview(review.Options{}); err == nil {
		t.Error("mounting the review endpoints twice: no error")
	}
	t0 := time.Date(2025, 3, 5, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	bad := stagedPerson("pbad", "某", "gongan", "c1")
	bad["registered_at"] = "1990-02-30 25:61:00"
	ids := reviewtest.Stage(t, conn,
		reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "p1", RegionCode: jinjiangA, Source: "gongan",
			BatchID: "c1", RowNo: 1, Values: stagedPerson("p1", "张三", "gongan", "c1"), ReceivedAt: t0},
		reviewtest.Row{Purpose: "change", Dataset: "house", IdentityKey: "h1", RegionCode: jinjiangA, Source: "zhujian",
			BatchID: "c2", RowNo: 1, Values: map[string]any{"address": "水井坊街道2号", "region_code": jinjiangA, "area": "70.5", "floor": "3"},
			ReceivedAt: t0.Add(time.Minute)},
		reviewtest.Row{Purpose: "change", Dataset: "person", IdentityKey: "pbad", RegionCode: jinjiangA, Source: "gongan",
			BatchID: "c1", RowNo: 2, Values: bad, ReceivedAt: t0.Add(2 * time.Minute)},
		reviewtest.Row{Purpose: "reference", Dataset: "person", IdentityKey: "p1", RegionCode: jinjiangA, Source: "minzheng",
			BatchID: "ref-1", RowNo: 1, Values: stagedPerson("p1", "张叁", "minzheng", "ref-1")},
		reviewtest.Row{Purpose: "reference", Dataset: "person", IdentityKey: "p9", RegionCode: jinjiangA, Source: "minzheng",
			BatchID: "ref-1", RowNo: 2, Values: stagedPerson("p9", "九", "minzheng", "ref-1")})
	return s.Handler(), conn, map[string]string{"p1": ids[0], "h1": ids[1], "bad": ids[2]}
}

func do(t *testing.T, h http.Handler, method, target, reviewer, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if reviewer != "" {
		req.Header.Set(apiserver.ReviewerHeader, reviewer)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

// TestReviewEndpoints walks the change requests through the API in order: list, look, refuse
// bad input, approve (twice), conflict, reject, compare.
func TestReviewEndpoints(t *testing.T) {
	h, conn, ids := newReviewServer(t)
	p1, h1, bad := ids["p1"], ids["h1"], ids["bad"]
	page := func(want uint64, kinds ...string) func(*testing.T, []byte) {
		return func(t *testing.T, b []byte) {
			var p review.Page
			mustJSON(t, b, &p)
			var got []string
			for _, r := range p.Requests {
				got = append(got, r.Kind)
			}
			if p.Total != want || strings.Join(got, ",") != strings.Join(kinds, ",") {
				t.Errorf("total %d kinds %v, want %d %v", p.Total, got, want, kinds)
			}
		}
	}
	outcome := func(decision string, repeated bool) func(*testing.T, []byte) {
		return func(t *testing.T, b []byte) {
			var o review.Outcome
			mustJSON(t, b, &o)
			if o.Decision.Decision != decision || o.Repeated != repeated || o.Decision.Reviewer != "王社工" {
				t.Errorf("outcome %+v, want %s by 王社工, repeated %v", o, decision, repeated)
			}
		}
	}
	steps := []struct {
		name, method, target, reviewer, body string
		status                               int
		field                                string
		check                                func(*testing.T, []byte)
	}{
		{"list all", "GET", changesPath, "", "", 200, "", page(3, "move_in", "move_in", "")},
		{"list a dataset", "GET", changesPath + "?dataset=house", "", "", 200, "", page(1, "move_in")},
		{"list a community", "GET", changesPath + "?region=" + jinjiangA + "&limit=1", "", "", 200, "", page(3, "move_in")},
		{"list another district", "GET", changesPath + "?region=510105000000", "", "", 200, "", page(0)},
		{"list a day", "GET", changesPath + "?from=2025-03-05&to=2025-03-05", "", "", 200, "", page(3, "move_in", "move_in", "")},
		{"list the day after", "GET", changesPath + "?from=2025-03-06", "", "", 200, "", page(0)},
		{"bad limit", "GET", changesPath + "?limit=0", "", "", 400, "limit", nil},
		{"bad cursor", "GET", changesPath + "?after=page2", "", "", 400, "after", nil},
		{"bad region", "GET", changesPath + "?region=520100000000", "", "", 404, "region", nil},
		{"get", "GET", changesPath + "/" + p1, "", "", 200, "", func(t *testing.T, b []byte) {
			var r review.Request
			mustJSON(t, b, &r)
			if r.Status != "pending" || r.Kind != "move_in" || r.Proposed["name"] == nil || *r.Proposed["name"] != "张三" || len(r.Diff) == 0 {
				t.Errorf("request %+v", r)
			}
		}},
		{"get unknown", "GET", changesPath + "/00ff", "", "", 404, "id", nil},
		{"get bad id", "GET", changesPath + "/XYZ", "", "", 400, "id", nil},
		{"approve without reviewer", "POST", changesPath + "/" + p1 + "/approve", "", "", 400, "reviewer", nil},
		{"approve with a bad body", "POST", changesPath + "/" + p1 + "/approve", "王社工", `{"who":"x"}`, 400, "", nil},
		{"reject without comment", "POST", changesPath + "/" + p1 + "/reject", "王社工", "", 400, "comment", nil},
		{"approve", "POST", changesPath + "/" + p1 + "/approve", "王社工", "", 200, "", outcome("approved", false)},
		{"approve again", "POST", changesPath + "/" + p1 + "/approve", "", `{"reviewer":"王社工"}`, 200, "", outcome("approved", true)},
		{"reject approved", "POST", changesPath + "/" + p1 + "/reject", "王社工", `{"comment":"晚了"}`, 409, "", nil},
		{"approve unknown", "POST", changesPath + "/00ff/approve", "王社工", "", 404, "id", nil},
		{"approve unusable", "POST", changesPath + "/" + bad + "/approve", "王社工", "", 422, "", nil},
		{"reject unusable", "POST", changesPath + "/" + bad + "/reject", "王社工", `{"comment":"登记时间有误"}`, 200, "", outcome("rejected", false)},
		{"reject", "POST", changesPath + "/" + h1 + "/reject", "", `{"reviewer":"王社工","comment":"地址不符"}`, 200, "", outcome("rejected", false)},
		{"nothing pending", "GET", changesPath, "", "", 200, "", page(0)},
		{"get approved", "GET", changesPath + "/" + p1, "", "", 200, "", func(t *testing.T, b []byte) {
			var r review.Request
			mustJSON(t, b, &r)
			if r.Status != "approved" || r.Kind != "move_in" || r.Decision == nil || r.Decision.Reviewer != "王社工" {
				t.Errorf("request %+v", r)
			}
		}},
		{"compare", "GET", comparePath + "?dataset=person&batch=ref-1", "", "", 200, "", func(t *testing.T, b []byte) {
			var c review.Comparison
			mustJSON(t, b, &c)
			if c.Reference != 2 || c.Differs != 1 || c.MissingInDWD != 1 || c.MissingInReference != nil || len(c.Rows) != 2 {
				t.Fatalf("comparison %+v", c)
			}
			if d := c.Rows[0].Diff; c.Rows[0].IdentityKey != "p1" || len(d) != 1 || d[0].Column != "name" || *d[0].Current != "张三" || *d[0].Reference != "张叁" {
				t.Errorf("p1: %+v", c.Rows[0])
			}
			if c.Rows[1].IdentityKey != "p9" || c.Rows[1].Status != "missing_in_dwd" {
				t.Errorf("p9: %+v", c.Rows[1])
			}
		}},
		{"compare, missing from reference", "GET", comparePath + "?dataset=person&source=minzheng&region=510104000000&missing_from_reference=true&status=missing_in_reference", "", "", 200, "",
			func(t *testing.T, b []byte) {
				var c review.Comparison
				mustJSON(t, b, &c)
				if c.MissingInReference == nil || *c.MissingInReference != 0 || len(c.Rows) != 0 {
					t.Errorf("comparison %+v", c)
				}
			}},
		{"compare without a batch", "GET", comparePath + "?dataset=person", "", "", 400, "batch", nil},
		{"compare an unknown dataset", "GET", comparePath + "?dataset=nosuch&batch=ref-1", "", "", 400, "dataset", nil},
		{"compare a bad status", "GET", comparePath + "?dataset=person&batch=ref-1&status=all", "", "", 400, "status", nil},
	}
	for _, st := range steps {
		status, body := do(t, h, st.method, st.target, st.reviewer, st.body)
		if status != st.status {
			t.Fatalf("%s: %s %s = %d %s, want %d", st.name, st.method, st.target, status, body, st.status)
		}
		if status >= 400 {
			var e struct{ Error httpserve.Error }
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Status != status || e.Error.Field != st.field || e.Error.Message == "" {
				t.Errorf("%s: error %s, want status %d on field %q with a message", st.name, body, status, st.field)
			}
			continue
		}
		if st.check != nil {
			t.Run(st.name, func(t *testing.T) { st.check(t, body) })
		}
	}

	var name, source string
	if err := conn.QueryRow(context.Background(), `SELECT name, source FROM dwd_person FINAL WHERE identity_key = 'p1'`).Scan(&name, &source); err != nil {
		t.Fatal(err)
	}
	if name != "张三" || source != "gongan" {
		t.Errorf("dwd_person p1 = %s from %s, want 张三 from gongan", name, source)
	}
	_, metrics := do(t, h, "GET", "/metrics", "", "")
	for _, want := range []string{
		`citypulse_api_requests_total{route="POST /api/v1/community/changes/{id}/approve",status="200"} 2`,
		`citypulse_review_decisions_total{dataset="person",decision="approved"} 1`,
		`citypulse_review_decisions_total{dataset="house",decision="rejected"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// TestWritesNeedTheAdminToken: reads need no token; a write answers 401 without the server's
// token or with another one, and 403 on a server that has none (writes off).
func TestWritesNeedTheAdminToken(t *testing.T) {
	h, _, ids := newReviewServer(t)
	_, conn := testenv.Warehouse(t)
	off, err := apiserver.New(conn, apiserver.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := off.MountReview(review.Options{}); err != nil {
		t.Fatal(err)
	}
	approve := "/api/v1/community/changes/" + ids["p1"] + "/approve"
	for _, tc := range []struct {
		name   string
		h      http.Handler
		method string
		target string
		auth   string
		want   int
	}{
		{"read without token", h, "GET", "/api/v1/community/changes", "", 200},
		{"write without token", h, "POST", approve, "", 401},
		{"write with another token", h, "POST", approve, "Bearer not-the-admin-token-42", 401},
		{"write with basic auth", h, "POST", approve, "Basic " + testAdminToken, 401},
		{"write on a server without a token", off.Handler(), "POST", approve, "Bearer " + testAdminToken, 403},
		{"read on a server without a token", off.Handler(), "GET", "/api/v1/community/changes", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(`{}`))
			req.Header.Set(apiserver.ReviewerHeader, "alice")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.target, rec.Code, rec.Body, tc.want)
			}
		})
	}
	// Nothing was decided by the refused writes.
	if code, body := do(t, h, "GET", "/api/v1/community/changes/"+ids["p1"], "", ""); code != 200 || !strings.Contains(string(body), `"pending"`) {
		t.Fatalf("p1 after refused approvals: %d %s", code, body)
	}
}

func TestAdminTokenTooShort(t *testing.T) {
	cfg := apiserver.DefaultConfig()
	cfg.AdminToken = "short"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "api-admin-token") {
		t.Fatalf("Validate with a 5-character token: %v", err)
	}
}

// TestStaleAddresses: p1 states house A, which dwd_person_house says they left for B; p2 states
// house C where they still live. Only p1 is listed, with B as where they live now.
func TestStaleAddresses(t *testing.T) {
	h, conn, _ := newReviewServer(t)
	ctx := context.Background()
	pb, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_person (identity_key, id_card_hash, id_card_masked, name, region_code, address, source, batch_id, row_no, version)")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range [][3]string{{"p1", "hash1", "A"}, {"p2", "hash2", "C"}} {
		if err := pb.Append(p[0], p[1], "510104********123"+strconv.Itoa(i), "某"+p[0], jinjiangA, p[2], "shequ", "b1", uint64(i+1), uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pb.Send(); err != nil {
		t.Fatal(err)
	}
	hb, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_person_house (identity_key, id_card_hash, region_code, address, move_in_date, move_out_date, source, batch_id, row_no, version)")
	if err != nil {
		t.Fatal(err)
	}
	in, out := "2020-01-02", "2024-03-04" // dates are strings since migration 0011
	for i, r := range []struct {
		key, hash, addr string
		moveOut         *string
	}{{"h1", "hash1", "A", &out}, {"h2", "hash1", "B", nil}, {"h3", "hash2", "C", nil}} {
		if err := hb.Append(r.key, r.hash, jinjiangA, r.addr, &in, r.moveOut, "shequ", "b2", uint64(i+1), uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := hb.Send(); err != nil {
		t.Fatal(err)
	}
	code, body := do(t, h, "GET", "/api/v1/community/stale-addresses?region="+jinjiangA, "", "")
	var list review.StaleList
	if code != 200 || json.Unmarshal(body, &list) != nil {
		t.Fatalf("stale addresses: %d %s", code, body)
	}
	if list.Total != 1 || len(list.Rows) != 1 || list.Rows[0].IdentityKey != "p1" || list.Rows[0].Address != "A" ||
		list.Rows[0].CurrentAddress != "B" || list.Rows[0].CurrentRegionCode != jinjiangA || list.Rows[0].BatchID != "b1" || list.Next != "" {
		t.Fatalf("stale addresses: %s, want p1 (A, now B)", body)
	}
	if code, body := do(t, h, "GET", "/api/v1/community/stale-addresses?region=510105000000", "", ""); code != 200 || !strings.Contains(string(body), `"total":0`) {
		t.Fatalf("another district: %d %s, want none", code, body)
	}
	for _, q := range []string{"region=99", "limit=0x", "limit=100000"} {
		if code, body := do(t, h, "GET", "/api/v1/community/stale-addresses?"+q, "", ""); code != 400 {
			t.Errorf("?%s: %d %s, want 400", q, code, body)
		}
	}
}
