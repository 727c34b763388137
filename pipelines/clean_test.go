package pipelines_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines"
)

// residentID completes 17 digits with their ISO 7064 MOD 11-2 check character.
func residentID(first17 string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return first17 + string("10X98765432"[sum%11])
}

func personRecord(t *testing.T, source string, row int64, at time.Time, fields map[string]any) *kgo.Record {
	t.Helper()
	b, err := json.Marshal(feedrecord.Record{BatchID: "batch-" + source, Source: source, Dataset: "person", Row: row, Fields: fields, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: bus.FeedsTopic("person"), Key: []byte(source), Value: b}
}

// personRow is what the test reads back from dwd_person FINAL.
type personRow struct {
	key, idHash, idMasked, name, gender, birth, mobileHash, mobileMasked, residence, region string
	district, street, community, source, batch                                              string
	row                                                                                     uint64
	flags                                                                                   []string
}

func readPersons(t *testing.T, s *stack) map[string]personRow {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), `SELECT identity_key, id_card_hash, id_card_masked, name, gender,
		toString(birth_date), mobile_hash, mobile_masked, residence_status, region_code, district_code, street_code,
		community_code, source, batch_id, row_no, quality_flags FROM dwd_person FINAL ORDER BY id_card_masked`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]personRow{}
	for rows.Next() {
		var r personRow
		if err := rows.Scan(&r.key, &r.idHash, &r.idMasked, &r.name, &r.gender, &r.birth, &r.mobileHash, &r.mobileMasked,
			&r.residence, &r.region, &r.district, &r.street, &r.community, &r.source, &r.batch, &r.row, &r.flags); err != nil {
			t.Fatal(err)
		}
		out[r.idMasked] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readQuarantine(t *testing.T, s *stack) []string {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(),
		"SELECT source, row_no, field, code, reason, raw FROM ods_feed_quarantine FINAL ORDER BY source, row_no, field, code")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var src, field, code, reason, raw string
		var row uint64
		if err := rows.Scan(&src, &row, &field, &code, &reason, &raw); err != nil {
			t.Fatal(err)
		}
		if reason == "" || raw == "" {
			t.Errorf("quarantine row %s/%d/%s/%s without reason or raw", src, row, field, code)
		}
		out = append(out, fmt.Sprintf("%s/%d/%s/%s", src, row, field, code))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCleanPersonToWarehouse follows person feed records through the cleaning pipeline: valid
// rows land normalised in dwd_person with the resident ID and mobile masked and hashed; invalid
// rows land in ods_feed_quarantine with one row per field error; the same person from two
// sources is one row; re-reading everything with a fresh consumer group changes nothing.
func TestCleanPersonToWarehouse(t *testing.T) {
	s := newStack(t)
	man, woman := residentID("51010419850712001"), residentID("51010619900102002")
	badSum := man[:17] + map[bool]string{true: "0", false: "1"}[man[17] != '0']
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	base := func(id string) map[string]any {
		return map[string]any{"id_card": id, "name": "张三", "residence_status": "户籍", "region_code": "510104017001"}
	}
	ensureTopic(t, s.Bus, bus.FeedsTopic("person")) // the feeds gateway creates it on a dataset's first batch
	produce(t, s.Bus,
		personRecord(t, "gongan", 1, t0, base(man)),
		personRecord(t, "gongan", 2, t0, map[string]any{"id_card": strings.ToLower(woman), "name": " 李四 ", "gender": "女",
			"mobile": "１３８-００１３-８０００", "residence_status": "2", "region_code": "５１０１０４０１７００１"}),
		personRecord(t, "gongan", 3, t0, base(badSum)),
		personRecord(t, "gongan", 4, t0, map[string]any{"id_card": man, "mobile": "12345", "residence_status": "1", "region_code": "510104017001"}),
		&kgo.Record{Topic: bus.FeedsTopic("person"), Value: []byte("not a feed record")},
		// The same man from a community office, later and with his mobile: one row, the newer.
		personRecord(t, "community", 1, t0.Add(time.Hour), map[string]any{"id_card": " " + man, "name": "张三", "mobile": "13900139000",
			"residence_status": "1", "region_code": "510104017001"}),
	)

	res := s.RunOnce()
	c := res.Clean["person"]
	if c == nil || len(c.Ranges) == 0 {
		t.Fatalf("turn %+v ran no person cleaning", res)
	}
	want := pipelines.CleanResult{Ranges: c.Ranges, Read: 6, Valid: 3, Quarantined: 3, Undecodable: 1, Written: 3, QuarantineRows: 4}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("person cleaning %+v, want %+v", *c, want)
	}

	got := readPersons(t, s)
	if len(got) != 2 {
		t.Fatalf("dwd_person FINAL: %+v, want 2 people", got)
	}
	m, ok := got["510104********"+man[14:]]
	if !ok {
		t.Fatalf("no row for the man: %+v", got)
	}
	if m.source != "community" || m.mobileMasked != "139****9000" || m.gender != "1" || m.birth != "1985-07-12" || m.name != "张三" ||
		m.district != "510104000000" || m.street != "510104017000" || m.community != "510104017001" || len(m.key) != 64 || len(m.idHash) != 64 {
		t.Errorf("man's row %+v: want the community's newer record, derived gender and birth date, four region levels", m)
	}
	w, ok := got["510106********"+woman[14:]]
	if !ok {
		t.Fatalf("no row for the woman: %+v", got)
	}
	if w.name != "李四" || w.gender != "2" || w.mobileMasked != "138****8000" || w.mobileHash == "" || w.region != "510104017001" ||
		w.residence != "2" || w.source != "gongan" || w.row != 2 || !reflect.DeepEqual(w.flags, []string{"code_mapped", "derived:birth_date", "dirty_fixed"}) {
		t.Errorf("woman's row %+v: want normalised values and flags", w)
	}
	for _, clear := range []string{man, woman, "13800138000", "13900139000"} {
		if n := s.Count(fmt.Sprintf("SELECT count() FROM dwd_person WHERE position(concat(identity_key, id_card_hash, id_card_masked, mobile_hash, mobile_masked), '%s') > 0", clear)); n != 0 {
			t.Errorf("%s stored in clear in %d rows", clear, n)
		}
	}

	q := readQuarantine(t, s)
	wantQ := []string{"/0//undecodable", "gongan/3/id_card/format", "gongan/4/mobile/format", "gongan/4/name/required"}
	if !reflect.DeepEqual(q, wantQ) {
		t.Fatalf("quarantine %q, want %q", q, wantQ)
	}

	// Nothing left; then a second runner with a fresh group re-reads all of it.
	if res := s.RunOnce(); !res.Idle() {
		t.Fatalf("second turn %+v, want idle", res)
	}
	cfg := pipelines.DefaultConfig()
	cfg.CleanGroup = "reread"
	res2 := s.RunOnceWith(cfg)
	if c := res2.Clean["person"]; c.Read != 6 || c.Written != 3 {
		t.Fatalf("re-read %+v, want the 6 records again", *c)
	}
	if after := readPersons(t, s); !reflect.DeepEqual(after, got) {
		t.Errorf("re-read changed dwd_person FINAL:\n%+v\nwas\n%+v", after, got)
	}
	if after := readQuarantine(t, s); !reflect.DeepEqual(after, q) {
		t.Errorf("re-read changed ods_feed_quarantine FINAL: %q", after)
	}
}

// ensureTopic creates the stack's copy (under cfg.TopicPrefix) of topic, named as the platform
// names it.
func ensureTopic(t *testing.T, cfg bus.Config, topic string) {
	t.Helper()
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cl, cfg.Partitions, cfg.TopicPrefix+topic); err != nil {
		t.Fatal(err)
	}
}
