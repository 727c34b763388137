package event

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestEncoderMatchesAppendJSON: the Encoder's memo of times never changes the output.
func TestEncoderMatchesAppendJSON(t *testing.T) {
	evs, _, err := Request{Now: now, Source: src, Origin: &Origin{IP: "203.0.113.0"}}.ParseBatch(benchBatch())
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	evs = append(evs,
		Event{MessageID: "m", Type: TypeTrack, Event: "e", UserID: "u", Timestamp: now, ReceivedAt: now.In(shanghai), SentAt: now.Add(time.Nanosecond)},
		Event{MessageID: "m", Type: TypeTrack, Event: "e", UserID: "u", Timestamp: now, ReceivedAt: now},
		Event{MessageID: "m", Type: TypeTrack, Event: "e", UserID: "u", Timestamp: now, ReceivedAt: now.Add(time.Second), SentAt: now.In(shanghai)},
	)
	var enc Encoder
	for i := range evs {
		if got, want := enc.Append(nil, &evs[i]), evs[i].AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("event %d: Encoder %s, AppendJSON %s", i, got, want)
		}
	}
}

// TestRepeatedContexts: the memo of the last context (scanner and parser) gives each event what
// parsing it alone gives.
func TestRepeatedContexts(t *testing.T) {
	ctxs := []string{
		`{"app":{"name":"a","version":"v3.02.1"},"region_code":510104017001,"service_id":"07","userAgent":"Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile"}`,
		`{"app":{"name":"a","version":"v3.02.1"},"region_code":"510104017001","ip":"203.0.113.9"}`,
		`{"app":{"version":2},"server":{"ip":"1.1.1.1"},"region_code":"510104017001","region_code":510104017002}`,
		`{"locale":"zh-CN"}`,
	}
	var items []string
	for i := range 24 {
		c := ctxs[(i/3)%len(ctxs)]
		items = append(items, `{"type":"track","event":"e","userId":"u","messageId":"m`+string(rune('a'+i))+`","properties":{"service_id":"12"},"context":`+c+`}`)
	}
	r := Request{Now: now, Source: src, Origin: &Origin{IP: "203.0.113.0", UserAgent: iphoneMini}}
	all, rejs, err := r.ParseBatch([]byte(`{"sentAt":"2024-05-01T08:29:59Z","batch":[` + strings.Join(items, ",") + `]}`))
	if err != nil || len(rejs) != 0 || len(all) != len(items) {
		t.Fatalf("batch: %d events, %v, %v", len(all), rejs, err)
	}
	for i, it := range items {
		one, _, err := r.ParseBatch([]byte(`{"sentAt":"2024-05-01T08:29:59Z","batch":[` + it + `]}`))
		if err != nil || len(one) != 1 {
			t.Fatalf("item %d alone: %v", i, err)
		}
		if got, want := all[i].AppendJSON(nil), one[0].AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("item %d in the batch:\n%s\nalone:\n%s", i, got, want)
		}
	}
}
