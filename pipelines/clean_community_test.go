package pipelines_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/cleaning"
)

// feedRecord is one feed record of any dataset from a source of the given kind ("" = community).
func feedRecord(t *testing.T, dataset, source, kind string, row int64, at time.Time, fields map[string]any) *kgo.Record {
	t.Helper()
	b, err := json.Marshal(feedrecord.Record{BatchID: "batch-" + source, Source: source, SourceKind: kind, Dataset: dataset,
		Row: row, Fields: fields, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: bus.FeedsTopic(dataset), Key: []byte(source), Value: b}
}

// communityCases are one valid and one invalid record per dataset cleaned by the community
// datasets' migration (0006): want maps SQL expressions over the dwd row to their text (NULL for
// NULL); clear are personal values that must not be stored in clear.
var communityCases = []struct {
	dataset        string
	valid, invalid map[string]any
	quarantine     []string // field/code of the invalid record
	want           map[string]string
	clear          []string
}{{
	dataset: "person_house",
	valid: map[string]any{"id_card": residentID("51010419850712001"), "region_code": "510104017001", "address": " 春熙路1号3栋2单元501",
		"relation": "租户", "is_householder": "否", "move_in_date": "2024/3/1"},
	invalid:    map[string]any{"id_card": residentID("51010419850712001"), "region_code": "510104017001", "address": "春熙路2号", "relation": "外星人"},
	quarantine: []string{"relation/code_table"},
	want: map[string]string{"address": "春熙路1号3栋2单元501", "relation": "3", "is_householder": "0", "move_in_date": "2024-03-01",
		"move_out_date": "NULL", "id_card_masked": "510104********" + residentID("51010419850712001")[14:], "street_code": "510104017000"},
	clear: []string{residentID("51010419850712001")},
}, {
	dataset: "org",
	valid: map[string]any{"uscc": "91350100m000100y43", "name": "成都某某科技有限公司", "org_type": "公司", "region_code": "510104017001",
		"legal_person": "王小明", "contact_mobile": "13800138000", "established_date": "2019-05-01", "employees": "12"},
	invalid:    map[string]any{"uscc": "91350100M000100Y44", "name": "x", "org_type": "1", "region_code": "510104017001"},
	quarantine: []string{"uscc/format"},
	want: map[string]string{"uscc": "91350100M000100Y43", "org_type": "1", "status": "", "legal_person_masked": "王**",
		"contact_mobile_masked": "138****8000", "established_date": "2019-05-01", "employees": "12", "district_code": "510104000000"},
	clear: []string{"王小明", "13800138000"},
}, {
	dataset: "facility",
	valid: map[string]any{"facility_id": "F-001", "name": "消防栓", "category": "消防", "status": "正常", "region_code": "510104017001",
		"longitude": "104.08", "latitude": "30.65", "installed_date": "2020-01-02", "checked_at": "2025-02-01 08:00:00"},
	invalid:    map[string]any{"facility_id": "F-002", "name": "x", "category": "01", "status": "1", "region_code": "510104017001", "latitude": "95"},
	quarantine: []string{"latitude/range"},
	want: map[string]string{"category": "01", "status": "1", "longitude": "104.08", "latitude": "30.65", "installed_date": "2020-01-02",
		"toString(checked_at, 'Asia/Shanghai')": "2025-02-01 08:00:00", "manager_uscc": ""},
}, {
	dataset: "opinion",
	valid: map[string]any{"opinion_id": "OP-1", "region_code": "510104017001", "category": "物业", "content": "楼道灯坏了\n请修理",
		"submitter_mobile": "13900139000", "submitted_at": "2025-03-01 09:30:00", "status": "办结", "satisfaction": "5"},
	invalid:    map[string]any{"opinion_id": "OP-2", "region_code": "510104017001", "category": "01", "submitted_at": "2025-03-01 09:30:00", "status": "1"},
	quarantine: []string{"content/required"},
	want: map[string]string{"category": "02", "content": "楼道灯坏了\n请修理", "submitter_mobile_masked": "139****9000", "status": "3",
		"toString(submitted_at, 'Asia/Shanghai')": "2025-03-01 09:30:00", "closed_at": "NULL", "satisfaction": "5", "channel": ""},
	clear: []string{"13900139000"},
}, {
	dataset: "activity",
	valid: map[string]any{"activity_id": "A-1", "title": "邻里节", "category": "文体", "region_code": "510104017001", "status": "报名中",
		"start_at": "2025-03-08 14:00:00", "capacity": "50"},
	invalid:    map[string]any{"activity_id": "A-2", "title": "x", "category": "01", "region_code": "510104017001", "status": "1", "start_at": "2025-03-08 14:00:00", "capacity": "-1"},
	quarantine: []string{"capacity/range"},
	want: map[string]string{"category": "01", "status": "1", "toString(start_at, 'Asia/Shanghai')": "2025-03-08 14:00:00",
		"end_at": "NULL", "capacity": "50", "signups": "NULL"},
}, {
	dataset: "space_booking",
	valid: map[string]any{"booking_id": "B-1", "space_id": "S-1", "space_name": "多功能室", "space_type": "多功能厅", "region_code": "510104017001",
		"booker_mobile": "13700137000", "start_at": "2025-03-09 09:00:00", "end_at": "2025-03-09 11:00:00", "status": "已预约", "attendees": "8"},
	invalid:    map[string]any{"booking_id": "B-2", "space_id": "S-1", "space_name": "x", "region_code": "510104017001", "start_at": "2025-03-09 09:00:00", "status": "1"},
	quarantine: []string{"end_at/required"},
	want: map[string]string{"space_type": "2", "booker_mobile_masked": "137****7000", "toString(end_at, 'Asia/Shanghai')": "2025-03-09 11:00:00",
		"attendees": "8", "booked_at": "NULL", "status": "1"},
	clear: []string{"13700137000"},
}, {
	dataset: "survey",
	valid: map[string]any{"response_id": "R-1", "survey_id": "SV-1", "survey_title": "满意度调查", "category": "满意度", "region_code": "510104017001",
		"respondent_mobile": "13600136000", "submitted_at": "2025-03-02 10:00:00", "completed": "是", "answered": "10", "satisfaction": "4"},
	invalid:    map[string]any{"response_id": "R-2", "survey_id": "SV-1", "survey_title": "x", "category": "1", "region_code": "510104017001", "submitted_at": "2025-03-02 10:00:00", "completed": "maybe"},
	quarantine: []string{"completed/type"},
	want:       map[string]string{"category": "1", "completed": "1", "answered": "10", "satisfaction": "4", "respondent_mobile_masked": "136****6000"},
	clear:      []string{"13600136000"},
}}

// readRow returns the dataset's one dwd row (FINAL) as the texts of the given expressions.
func readRow(t *testing.T, s *stack, table string, exprs []string) []string {
	t.Helper()
	sel := make([]string, len(exprs))
	for i, e := range exprs {
		sel[i] = fmt.Sprintf("ifNull(toString(%s), 'NULL')", e)
	}
	rows, err := s.Conn.Query(context.Background(), "SELECT "+strings.Join(sel, ", ")+" FROM "+table+" FINAL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	n := 0
	for rows.Next() {
		n++
		vals := make([]string, len(exprs))
		ptrs := make([]any, len(exprs))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = vals
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%s FINAL has %d rows, want 1", table, n)
	}
	return out
}

// snapshot is every column of a table's FINAL rows as text, sorted, to compare before and after.
func snapshot(t *testing.T, s *stack, table string) []string {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ? ORDER BY name", table)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, fmt.Sprintf("ifNull(toString(%s), 'NULL')", c))
		if c == "quality_flags" {
			cols[len(cols)-1] = "arrayStringConcat(quality_flags, ',')"
		}
	}
	rows.Close()
	var out []string
	rows, err = s.Conn.Query(context.Background(), "SELECT concat("+strings.Join(cols, ", '|', ")+") AS r FROM "+table+" FINAL ORDER BY r")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestCleanCommunityDatasets: for each community dataset besides people and houses, a valid
// record lands normalised in its dwd_ table (personal values hashed and masked, never in clear),
// an invalid one is quarantined with its field error, and re-reading everything with a fresh
// consumer group changes nothing.
func TestCleanCommunityDatasets(t *testing.T) {
	s := newStack(t)
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for _, c := range communityCases {
		ensureTopic(t, s.Bus, bus.FeedsTopic(c.dataset))
		recs = append(recs, feedRecord(t, c.dataset, "community", "", 1, t0, c.valid), feedRecord(t, c.dataset, "community", "", 2, t0, c.invalid))
	}
	produce(t, s.Bus, recs...)
	res := s.RunOnce()

	snaps := map[string][]string{}
	for _, c := range communityCases {
		t.Run(c.dataset, func(t *testing.T) {
			spec := cleaning.Specs[c.dataset]
			r := res.Clean[c.dataset]
			if r == nil || r.Read != 2 || r.Valid != 1 || r.Quarantined != 1 || r.Written != 1 || r.QuarantineRows != int64(len(c.quarantine)) {
				t.Fatalf("cleaning %+v, want 2 read, 1 valid and written, 1 quarantined", r)
			}
			exprs := slices.Sorted(func(yield func(string) bool) {
				for k := range c.want {
					if !yield(k) {
						return
					}
				}
			})
			got := readRow(t, s, spec.Table, exprs)
			for i, e := range exprs {
				if got[i] != c.want[e] {
					t.Errorf("%s = %q, want %q", e, got[i], c.want[e])
				}
			}
			if n := s.Count("SELECT count() FROM " + spec.Table + " FINAL WHERE length(identity_key) = 64 AND community_code = '510104017001' AND source = 'community' AND row_no = 1"); n != 1 {
				t.Errorf("identity key, region levels or lineage missing (%d rows)", n)
			}
			checkEncrypted(t, s, spec, c.clear)
			for _, v := range c.clear {
				if n := s.Count("SELECT count() FROM "+spec.Table+" WHERE position(concat("+stringColumns(t, s, spec.Table)+"), ?) > 0", v); n != 0 {
					t.Errorf("%s stored in clear", v)
				}
			}
			if n := s.Count("SELECT count() FROM ods_feed_quarantine FINAL WHERE dataset = ?", c.dataset); n != uint64(len(c.quarantine)) {
				t.Errorf("%d quarantine rows, want %d", n, len(c.quarantine))
			}
			for _, want := range c.quarantine {
				if n := s.Count("SELECT count() FROM ods_feed_quarantine FINAL WHERE dataset = ? AND row_no = 2 AND concat(field, '/', code) = ?", c.dataset, want); n != 1 {
					t.Errorf("no quarantine row %s (have %q)", want, readQuarantine(t, s))
				}
			}
			snaps[spec.Table] = snapshot(t, s, spec.Table)
		})
	}

	cfg := pipelines.DefaultConfig()
	cfg.CleanGroup = "reread"
	res2 := s.RunOnceWith(cfg)
	for _, c := range communityCases {
		table := cleaning.Specs[c.dataset].Table
		if r := res2.Clean[c.dataset]; r.Read != 2 || r.Written != 1 {
			t.Errorf("%s re-read %+v, want both records again", c.dataset, *r)
		}
		if after := snapshot(t, s, table); !reflect.DeepEqual(after, snaps[table]) {
			t.Errorf("re-read changed %s FINAL:\n%q\nwas\n%q", table, after, snaps[table])
		}
	}
}

// stringColumns is a comma-separated list of a table's String columns.
func stringColumns(t *testing.T, s *stack, table string) string {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ? AND type = 'String'", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ", ")
}

func stringOf(t *testing.T, s *stack, query string, args ...any) string {
	t.Helper()
	var v string
	if err := s.Conn.QueryRow(context.Background(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}
