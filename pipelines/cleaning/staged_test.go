package cleaning

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

func feedOf(t testing.TB, dataset, source, kind string, row int64, fields map[string]any) kafkaio.Record {
	t.Helper()
	b, err := json.Marshal(feedrecord.Record{BatchID: "b-" + source, Source: source, SourceKind: kind, Dataset: dataset, Row: row, Fields: fields, ReceivedAt: recv})
	if err != nil {
		t.Fatal(err)
	}
	return kafkaio.Record{Topic: "citypulse.feeds." + dataset + ".v1", Value: b, TimestampMs: recv.UnixMilli()}
}

func cleanerOf(t testing.TB, dataset string) *Cleaner {
	t.Helper()
	std, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCleaner(std, Specs[dataset], testKeys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoute(t *testing.T) {
	tests := []struct {
		dataset, kind, want string
	}{
		{"person_house", "", RouteDWD},
		{"person_house", SourceCommunity, RouteDWD},
		{"person_house", SourceDepartment, RouteChange},
		{"person_house", SourceReference, RouteReference},
		{"person", SourceDepartment, RouteDWD},
		{"person", SourceReference, RouteReference},
		{"house", "", RouteDWD},
		{"org", SourceReference, RouteReference},
		{"person", "Department", ""},
	}
	for _, tt := range tests {
		got, ok := Specs[tt.dataset].Route(tt.kind)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s.Route(%q) = %q, %v; want %q", tt.dataset, tt.kind, got, ok, tt.want)
		}
	}
}

var relation = map[string]any{"id_card": maleID, "region_code": "510104017001", "address": "春熙路1号3栋2单元501", "relation": "业主",
	"is_householder": "是", "move_in_date": "2024/3/1"}

// TestStagePersonHouse: a department's person–house row is a change request with a stable id,
// the identity key the dwd row has, and the dwd row as JSON strings.
func TestStagePersonHouse(t *testing.T) {
	c := cleanerOf(t, "person_house")
	spec := Specs["person_house"]
	row, q := c.Clean(feedOf(t, "person_house", "minzheng", SourceDepartment, 3, relation))
	if row == nil {
		t.Fatalf("quarantined: %+v", q)
	}
	if row.Route != RouteChange || len(row.RequestID) != 64 {
		t.Fatalf("route %q, request id %q; want a change with an id", row.Route, row.RequestID)
	}
	again, _ := c.Clean(feedOf(t, "person_house", "minzheng", SourceDepartment, 3, relation))
	other, _ := c.Clean(feedOf(t, "person_house", "minzheng", SourceDepartment, 4, relation))
	community, _ := c.Clean(feedOf(t, "person_house", "shequ", "", 3, relation))
	if again.RequestID != row.RequestID || other.RequestID == row.RequestID {
		t.Error("request id: want the same for a re-read, another for another row")
	}
	if community.Route != RouteDWD || community.RequestID != "" || community.Get(MetaIdentityKey) != row.Get(MetaIdentityKey) {
		t.Errorf("community row %+v: want loaded, with the change's identity key", community)
	}
	st, err := spec.Stage(*row)
	if err != nil {
		t.Fatal(err)
	}
	want := Staged{Purpose: RouteChange, Dataset: "person_house", RequestID: row.RequestID, IdentityKey: row.Get(MetaIdentityKey),
		RegionCode: "510104017001", Source: "minzheng", BatchID: "b-minzheng", RowNo: 3, Row: st.Row, ReceivedAtMs: recv.UnixMilli()}
	if st != want {
		t.Errorf("Stage = %+v, want %+v", st, want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(st.Row), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	wantKeys := slices.DeleteFunc(spec.ColumnNames(), func(n string) bool { return n == "received_at" || n == "version" })
	if slices.Sort(keys); !slices.Equal(keys, slices.Sorted(slices.Values(wantKeys))) {
		t.Errorf("row keys %q, want the dwd columns %q", keys, wantKeys)
	}
	for k, v := range map[string]any{"relation": "1", "is_householder": "1", "move_in_date": "2024-03-01", "move_out_date": nil,
		"id_card_masked": "510104********" + maleID[14:], "street_code": "510104017000", "row_no": "3", "source": "minzheng",
		"quality_flags": []any{"code_mapped", "dirty_fixed"}, "identity_key": row.Get(MetaIdentityKey)} {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("row[%s] = %#v, want %#v", k, m[k], v)
		}
	}
	if id, err := Decrypt(testKeys.Encryption, m["id_card_enc"].(string)); err != nil || id != maleID {
		t.Errorf("id_card_enc opens to %q, %v", id, err)
	}
	st2, _ := spec.Stage(*again)
	if st2 != st {
		t.Error("a re-read stages other bytes")
	}
	if _, err := spec.Stage(*community); err == nil {
		t.Error("a loaded row stages")
	}
}

// TestRowJSONKinds: every kind's JSON form, on reference rows of datasets that have them.
func TestRowJSONKinds(t *testing.T) {
	tests := []struct {
		dataset string
		fields  map[string]any
		want    map[string]any
	}{
		{"house", map[string]any{"region_code": "510104017001", "address": "春熙路1号", "use": "10", "floor": "-1", "area": "89.50"},
			map[string]any{"floor": "-1", "area": "89.5", "built_year": nil, "owner_id_card_hash": "", "quality_flags": []any{"dirty_fixed"}}},
		{"survey", map[string]any{"response_id": "R-1", "survey_id": "S", "survey_title": "t", "category": "1", "region_code": "510104017001",
			"submitted_at": "2025/3/2 10:00", "completed": "否"},
			map[string]any{"submitted_at": "2025-03-02 10:00:00", "completed": "0", "answered": nil}},
		{"person", map[string]any{"id_card": femaleID, "name": "李四", "residence_status": "1", "region_code": "510104017001",
			"registered_at": "2024-05-06 07:08:09"},
			map[string]any{"birth_date": "1990-01-02", "registered_at": "2024-05-06 07:08:09", "mobile_enc": "", "region_code": "510104017001"}},
		{"facility", map[string]any{"facility_id": "F", "name": "n", "category": "01", "status": "1", "region_code": "510104017001",
			"installed_date": "2020-01-02", "longitude": "104.1"},
			map[string]any{"installed_date": "2020-01-02", "longitude": "104.1", "latitude": nil, "checked_at": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.dataset, func(t *testing.T) {
			row, q := cleanerOf(t, tt.dataset).Clean(feedOf(t, tt.dataset, "ref", SourceReference, 1, tt.fields))
			if row == nil {
				t.Fatalf("quarantined: %+v", q)
			}
			st, err := Specs[tt.dataset].Stage(*row)
			if err != nil || st.Purpose != RouteReference {
				t.Fatalf("Stage = %+v, %v", st, err)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(st.Row), &m); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got, ok := m[k]; !ok || !reflect.DeepEqual(got, v) {
					t.Errorf("row[%s] = %#v, want %#v", k, got, v)
				}
			}
		})
	}
}

func TestUnknownSourceKind(t *testing.T) {
	row, q := cleanerOf(t, "person").Clean(feedOf(t, "person", "x", "partner", 1, person(maleID)))
	if row != nil || len(q) != 1 || q[0].Field != "source_kind" || q[0].Code != CodeSourceKind || q[0].Source != "x" {
		t.Fatalf("row %+v, quarantine %+v; want one source_kind quarantine row", row, q)
	}
}
