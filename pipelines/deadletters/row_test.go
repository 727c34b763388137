package deadletters

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// recv is 2025-03-04 23:30 UTC: already 2025-03-05 in Shanghai.
var recv = time.Date(2025, 3, 4, 23, 30, 0, 0, time.UTC)

func record(v string) kafkaio.Record {
	return kafkaio.Record{Topic: "citypulse.events.dlq.v1", Partition: 2, Offset: 41, Value: []byte(v),
		TimestampMs: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli()}
}

func letter(d event.DeadLetter) string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestFromRecord(t *testing.T) {
	planRaw := `{"type":"track","event":"service_open","messageId":"m1","properties":{"service_id":"x"}}`
	tests := []struct {
		name  string
		value string
		want  Row // DedupeKey checked separately when it is a hash
		hash  bool
	}{
		{
			name: "plan violation",
			value: letter(event.DeadLetter{Reason: "properties.service_id: want a number", Field: "properties.service_id", Code: event.CodePlan,
				Event: "service_open", Rule: "type", Index: 3, MessageID: "m1", Source: "citypulse-app", ReceivedAt: recv, Raw: json.RawMessage(planRaw)}),
			want: Row{EventDate: "2025-03-05", ReceivedAt: recv.Unix(), Source: "citypulse-app", MessageID: "m1", DedupeKey: "m1",
				Event: "service_open", Code: "plan", Rule: "type", Field: "properties.service_id", Reason: "properties.service_id: want a number",
				BatchIndex: 3, Raw: planRaw},
		},
		{
			name: "validation failure names the event from raw",
			value: letter(event.DeadLetter{Reason: "not 12 digits", Field: "context.region_code", Code: event.CodeInvalid,
				Source: "h5", ReceivedAt: recv, Raw: json.RawMessage(`{"type":"page","name":"实时公交","context":{"region_code":"1"}}`)}),
			want: Row{EventDate: "2025-03-05", ReceivedAt: recv.Unix(), Source: "h5", Event: "实时公交", Code: "invalid",
				Field: "context.region_code", Reason: "not 12 digits", Raw: `{"type":"page","name":"实时公交","context":{"region_code":"1"}}`},
			hash: true,
		},
		{
			name:  "missing raw and receive time",
			value: `{"reason":"required","field":"type","code":"required","index":0,"source":"ios","receivedAt":"0001-01-01T00:00:00Z","raw":null}`,
			want: Row{EventDate: "2025-01-02", ReceivedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix(), Source: "ios",
				Code: "required", Field: "type", Reason: "required"},
			hash: true,
		},
		{
			name: "identify takes its type as name",
			value: letter(event.DeadLetter{Reason: "x", Code: event.CodeTooLong, Field: "userId", MessageID: "m9", Source: "s", ReceivedAt: recv,
				Raw: json.RawMessage(`{"type":"IDENTIFY","userId":"…"}`)}),
			want: Row{EventDate: "2025-03-05", ReceivedAt: recv.Unix(), Source: "s", MessageID: "m9", DedupeKey: "m9",
				Event: "identify", Code: "too_long", Field: "userId", Reason: "x", Raw: `{"type":"IDENTIFY","userId":"…"}`},
		},
		{
			name:  "not JSON",
			value: "\x00garbage",
			want: Row{EventDate: "2025-01-02", ReceivedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix(), Code: CodeUndecodable,
				Raw: "\x00garbage"},
			hash: true,
		},
		{
			name:  "JSON but not a dead letter",
			value: `{"hello":"world"}`,
			want: Row{EventDate: "2025-01-02", ReceivedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix(), Code: CodeUndecodable,
				Raw: `{"hello":"world"}`},
			hash: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromRecord(record(tt.value), shanghai)
			if tt.hash {
				if !strings.HasPrefix(got.DedupeKey, "sha256:") || len(got.DedupeKey) != len("sha256:")+64 {
					t.Errorf("DedupeKey = %q, want a sha256 key", got.DedupeKey)
				}
				tt.want.DedupeKey = got.DedupeKey
			}
			if tt.want.Code == CodeUndecodable {
				if !strings.Contains(got.Reason, "citypulse.events.dlq.v1[2]@41") {
					t.Errorf("Reason = %q, want the record's place", got.Reason)
				}
				tt.want.Reason = got.Reason
			}
			if got != tt.want {
				t.Errorf("FromRecord =\n %+v\nwant\n %+v", got, tt.want)
			}
			if again := FromRecord(record(tt.value), shanghai); again != got {
				t.Errorf("FromRecord is not deterministic: %+v then %+v", got, again)
			}
		})
	}
}

// Dead letters without a message id are told apart by raw, receive time and batch index, and a
// resend of the same one (same message id) keeps its key.
func TestDedupeKey(t *testing.T) {
	base := event.DeadLetter{Reason: "r", Code: event.CodeInvalid, Source: "s", ReceivedAt: recv, Raw: json.RawMessage(`{"a":1}`)}
	key := func(d event.DeadLetter) string { return FromRecord(record(letter(d)), shanghai).DedupeKey }
	k := key(base)
	otherRaw, otherTime, otherIndex := base, base, base
	otherRaw.Raw = json.RawMessage(`{"a":2}`)
	otherTime.ReceivedAt = recv.Add(time.Millisecond)
	otherIndex.Index = 1
	for name, d := range map[string]event.DeadLetter{"raw": otherRaw, "time": otherTime, "index": otherIndex} {
		if key(d) == k {
			t.Errorf("a different %s gives the same key %s", name, k)
		}
	}
	withID := base
	withID.MessageID = "m1"
	resent := withID
	resent.ReceivedAt = recv.Add(time.Hour)
	if key(withID) != "m1" || key(resent) != "m1" {
		t.Errorf("keys with message id: %s, %s; want m1", key(withID), key(resent))
	}
	// Undecodable records are told apart by their place in the topic.
	a, b := record("x"), record("x")
	b.Offset++
	if FromRecord(a, shanghai).DedupeKey == FromRecord(b, shanghai).DedupeKey {
		t.Error("two undecodable records at different offsets share a key")
	}
}

func TestValues(t *testing.T) {
	r := FromRecord(record(letter(event.DeadLetter{Code: "plan", Rule: "enum", MessageID: "m", Source: "s", ReceivedAt: recv, Raw: json.RawMessage(`{}`)})), shanghai)
	loaded := time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC)
	vals, err := r.Values(shanghai, loaded)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(Columns) {
		t.Fatalf("%d values for %d columns", len(vals), len(Columns))
	}
	if d := vals[0].(time.Time); !d.Equal(time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("event_date = %s", d)
	}
	if at := vals[1].(time.Time); !at.Equal(recv) {
		t.Errorf("received_at = %s", at)
	}
	if _, err := (Row{EventDate: "yesterday"}).Values(shanghai, loaded); err == nil {
		t.Error("a bad event_date gave no error")
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"数据埋点", 7, "数据"}, // 3 bytes a rune: never cut one in half
		{"a\xffb", 10, "a\uFFFDb"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// FuzzFromRecord: any record value becomes a row with a code, a key, a date ClickHouse can hold
// and valid UTF-8 in every column except raw; undecodable values keep their bytes.
func FuzzFromRecord(f *testing.F) {
	f.Add([]byte(letter(event.DeadLetter{Reason: "r", Field: "f", Code: "plan", Event: "e", Rule: "required", MessageID: "m", Source: "s", ReceivedAt: recv, Raw: json.RawMessage(`{"type":"track"}`)})), int64(0))
	f.Add([]byte(`{"code":"invalid","raw":"\u0000","receivedAt":"9999-12-31T23:59:59Z","index":-5}`), int64(-1))
	f.Add([]byte(`{"code":"x","raw":{"event":["not","a","string"]},"messageId":"\xff\xfe"}`), int64(1<<62))
	f.Add([]byte("null"), int64(0))
	f.Add([]byte("\xff"), int64(1700000000000))
	f.Fuzz(func(t *testing.T, value []byte, ts int64) {
		rec := kafkaio.Record{Topic: "t", Value: value, TimestampMs: ts}
		r := FromRecord(rec, shanghai)
		if r.Code == "" || r.DedupeKey == "" {
			t.Fatalf("row %+v has no code or key", r)
		}
		if _, err := r.Values(shanghai, time.Now()); err != nil {
			t.Fatalf("Values: %v", err)
		}
		if at := time.Unix(r.ReceivedAt, 0); at.Before(minTime) || at.After(maxTime) {
			t.Fatalf("received_at %s out of range", at)
		}
		for _, s := range []string{r.Source, r.MessageID, r.DedupeKey, r.Event, r.Code, r.Rule, r.Field, r.Reason} {
			if !utf8.ValidString(s) || len(s) > maxReasonBytes {
				t.Fatalf("column value %q: invalid UTF-8 or too long", s)
			}
		}
		if r.Code == CodeUndecodable && r.Raw != string(value) {
			t.Fatalf("undecodable raw %q, want the value %q", r.Raw, value)
		}
	})
}
