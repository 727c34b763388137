package pipelines_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/cleaning"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

type stagedRow struct {
	Purpose, Dataset, RequestID, IdentityKey, RegionCode, Source, BatchID string
	RowNo                                                                 uint64
	Row                                                                   string
	ReceivedAt                                                            time.Time
	Version                                                               uint64
}

func readStaged(t *testing.T, s *stack) []stagedRow {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), `SELECT purpose, dataset, request_id, identity_key, region_code, source, batch_id,
		row_no, row, received_at, version FROM ods_staged_rows FINAL ORDER BY purpose, dataset, source, row_no`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []stagedRow
	for rows.Next() {
		var r stagedRow
		if err := rows.Scan(&r.Purpose, &r.Dataset, &r.RequestID, &r.IdentityKey, &r.RegionCode, &r.Source, &r.BatchID,
			&r.RowNo, &r.Row, &r.ReceivedAt, &r.Version); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCleanStaging routes valid rows by their source's kind: a department's person–house row
// (a move-out) is staged as a change request and not loaded; a community's is loaded; a reference
// source's person is staged for comparison only. The staged rows are exactly what the
// beam-free cleaning.Spec.Stage gives, carry the identity keys of the dwd rows they concern, and
// a re-read changes nothing.
func TestCleanStaging(t *testing.T) {
	s := newStack(t)
	man, woman := residentID("51010419850712001"), residentID("51010619900102002")
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	lives := map[string]any{"id_card": man, "region_code": "510104017001", "address": "春熙路1号3栋2单元501", "relation": "3", "move_in_date": "2024-03-01"}
	moveOut := map[string]any{"id_card": man, "region_code": "510104017001", "address": "春熙路1号3栋2单元501", "relation": "3",
		"move_in_date": "2024-03-01", "move_out_date": "2025-03-01"}
	person := map[string]any{"id_card": woman, "name": "李四", "residence_status": "1", "region_code": "510104017001", "mobile": "13800138000"}
	ensureTopic(t, s.Bus, bus.FeedsTopic("person_house"))
	ensureTopic(t, s.Bus, bus.FeedsTopic("person"))
	recs := []struct {
		dataset, source, kind string
		fields                map[string]any
	}{
		{"person_house", "shequ", "community", lives},
		{"person_house", "minzheng", "department", moveOut},
		{"person", "shequ", "", person},
		{"person", "gongan-ref", "reference", with(person, "name", "李 四", "mobile", "13900139000")},
	}
	for i, r := range recs {
		produce(t, s.Bus, feedRecord(t, r.dataset, r.source, r.kind, int64(i+1), t0, r.fields))
	}
	res := s.RunOnce()
	if c := res.Clean["person_house"]; c == nil || c.Read != 2 || c.Valid != 2 || c.Changes != 1 || c.References != 0 || c.Written != 1 || c.StagedRows != 1 {
		t.Fatalf("person_house cleaning %+v, want 2 valid: 1 loaded, 1 change staged", c)
	}
	if c := res.Clean["person"]; c == nil || c.Read != 2 || c.Valid != 2 || c.References != 1 || c.Written != 1 || c.StagedRows != 1 {
		t.Fatalf("person cleaning %+v, want 2 valid: 1 loaded, 1 reference staged", c)
	}

	if n := s.Count("SELECT count() FROM dwd_person_house FINAL WHERE source = 'shequ' AND move_out_date IS NULL"); n != 1 {
		t.Errorf("dwd_person_house: %d rows of the community's, want 1 and no department row", n)
	}
	if n := s.Count("SELECT count() FROM dwd_person FINAL WHERE source = 'shequ' AND mobile_masked = '138****8000'"); n != 1 {
		t.Errorf("dwd_person: %d rows of the community's, want 1 and no reference row", n)
	}

	staged := readStaged(t, s)
	if len(staged) != 2 {
		t.Fatalf("ods_staged_rows %+v, want 2", staged)
	}
	std, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := pipelines.DefaultConfig()
	enc, _ := cleaning.ParseEncryptionKey(cfg.CleanEncryptionKey)
	keys := cleaning.Keys{Hash: []byte(cfg.CleanHashKey), Encryption: enc, EncryptionID: cfg.CleanEncryptionKeyID}
	for i, want := range []struct {
		purpose, dataset, source string
		rec                      int
		dwd                      string // query of the identity key of the dwd row the staged row concerns
	}{
		{"change", "person_house", "minzheng", 1, "SELECT identity_key FROM dwd_person_house FINAL"},
		{"reference", "person", "gongan-ref", 3, "SELECT identity_key FROM dwd_person FINAL"},
	} {
		got := staged[i]
		c, err := cleaning.NewCleaner(std, cleaning.Specs[want.dataset], keys)
		if err != nil {
			t.Fatal(err)
		}
		r := recs[want.rec]
		kr := feedRecord(t, r.dataset, r.source, r.kind, int64(want.rec+1), t0, r.fields)
		row, q := c.Clean(kafkaRecord(kr))
		if row == nil {
			t.Fatalf("quarantined: %+v", q)
		}
		st, err := cleaning.Specs[want.dataset].Stage(*row)
		if err != nil {
			t.Fatal(err)
		}
		if got.Purpose != want.purpose || got.Dataset != want.dataset || got.Source != want.source || got.RegionCode != "510104017001" ||
			got.RequestID != st.RequestID || got.IdentityKey != st.IdentityKey || got.Row != st.Row || got.RowNo != st.RowNo ||
			got.BatchID != "batch-"+want.source || !got.ReceivedAt.Equal(t0) || got.Version != uint64(t0.UnixMilli()) {
			t.Errorf("staged %+v\nwant %+v", got, st)
		}
		if key := stringOf(t, s, want.dwd); got.IdentityKey != key {
			t.Errorf("%s staged identity key %s, dwd row's %s", want.dataset, got.IdentityKey, key)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got.Row), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["received_at"]; ok {
			t.Errorf("row has received_at: %s", got.Row)
		}
		if want.dataset == "person_house" && (m["move_out_date"] != "2025-03-01" || m["is_householder"] != nil) {
			t.Errorf("change row %s: want the move-out date and a NULL householder", got.Row)
		}
		if want.dataset == "person" && (m["mobile_masked"] != "139****9000" || m["name"] != "李 四") {
			t.Errorf("reference row %s: want the reference's values", got.Row)
		}
	}

	cfg.CleanGroup = "reread"
	res2 := s.RunOnceWith(cfg)
	if c := res2.Clean["person_house"]; c.Changes != 1 || c.StagedRows != 1 {
		t.Fatalf("re-read %+v, want the change staged again", *c)
	}
	if after := readStaged(t, s); !reflect.DeepEqual(after, staged) {
		t.Errorf("re-read changed ods_staged_rows FINAL:\n%+v\nwas\n%+v", after, staged)
	}
}

// kafkaRecord is a produced record as the pipeline reads it (its value is all cleaning uses when
// the feed record has a receive time).
func kafkaRecord(r *kgo.Record) kafkaio.Record {
	return kafkaio.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
}

// with returns a copy of m with the given key/value pairs set.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
