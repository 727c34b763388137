package pipelines_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/internal/bus"
)

func houseRecord(t *testing.T, source string, row int64, at time.Time, fields map[string]any) *kgo.Record {
	t.Helper()
	b, err := json.Marshal(feedrecord.Record{BatchID: "batch-" + source, Source: source, Dataset: "house", Row: row, Fields: fields, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: bus.FeedsTopic("house"), Key: []byte(source), Value: b}
}

// TestCleanHouseToWarehouse: the second dataset of the cleaning pipeline. The same house from two
// sources is one row (identity: community + cleaned address); optional numbers stay NULL when a
// source leaves them out; the owner's resident ID is stored as the same keyed hash dwd_person uses,
// so houses join people without the ID in clear; a house without its required use is quarantined.
func TestCleanHouseToWarehouse(t *testing.T) {
	s := newStack(t)
	owner := residentID("51010419850712001")
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	ensureTopic(t, s.Bus, bus.FeedsTopic("house"))
	ensureTopic(t, s.Bus, bus.FeedsTopic("person"))
	produce(t, s.Bus,
		houseRecord(t, "zhujian", 1, t0, map[string]any{"region_code": "510104017001", "address": "春熙路1号3栋2单元501", "use": "住宅",
			"floor": "5", "area": "89.5", "owner_id_card": owner}),
		// The same house from the community office, later, without floor and area: one row, the newer.
		houseRecord(t, "community", 7, t0.Add(time.Hour), map[string]any{"region_code": "510104017001", "address": " 春熙路1号3栋2单元501 ", "use": "10",
			"owner_id_card": owner}),
		houseRecord(t, "zhujian", 2, t0, map[string]any{"region_code": "510104017001", "address": "春熙路2号"}), // no use
		personRecord(t, "gongan", 1, t0, map[string]any{"id_card": owner, "name": "张三", "residence_status": "1", "region_code": "510104017001"}),
	)
	res := s.RunOnce()
	if c := res.Clean["house"]; c == nil || c.Read != 3 || c.Valid != 2 || c.Quarantined != 1 || c.Written != 2 {
		t.Fatalf("house cleaning %+v, want 3 read, 2 valid and written, 1 quarantined", c)
	}

	type house struct {
		Address, Use, Source, Masked string
		Floor                        *int64
		Area                         *float64
		Row                          uint64
	}
	var got []house
	rows, err := s.Conn.Query(context.Background(), "SELECT address, use, source, owner_id_card_masked, floor, area, row_no FROM dwd_house FINAL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h house
		if err := rows.Scan(&h.Address, &h.Use, &h.Source, &h.Masked, &h.Floor, &h.Area, &h.Row); err != nil {
			t.Fatal(err)
		}
		got = append(got, h)
	}
	rows.Close()
	want := []house{{Address: "春熙路1号3栋2单元501", Use: "10", Source: "community", Masked: "510104********" + owner[14:], Row: 7}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dwd_house FINAL %+v, want %+v (the newer source, NULL floor and area)", got, want)
	}
	if n := s.Count("SELECT count() FROM dwd_house FINAL WHERE owner_id_card_hash IN (SELECT id_card_hash FROM dwd_person FINAL)"); n != 1 {
		t.Fatalf("house–owner join found %d rows, want 1", n)
	}
	if q := readQuarantine(t, s); !reflect.DeepEqual(q, []string{"zhujian/2/use/required"}) {
		t.Fatalf("quarantine %q, want the house without a use", q)
	}
}
