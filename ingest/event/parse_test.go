package event

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC)

const src = "citypulse-app"

func TestRejections(t *testing.T) {
	big := `{"type":"track","event":"e","userId":"u","properties":{"pad":"` + strings.Repeat("x", MaxEventBytes) + `"}}`
	tests := []struct {
		name      string
		item      string
		wantField string
		wantCode  string
		wantIn    string // a piece of the reason
		wantMsgID string
	}{
		{"too large", big, "", CodeTooLarge, "bytes", ""},
		{"not an object", `[1,2]`, "", CodeNotObject, "an array", ""},
		{"null item", `null`, "", CodeNotObject, "null", ""},
		{"type missing", `{"event":"e","userId":"u"}`, "type", CodeRequired, "required", ""},
		{"type wrong type", `{"type":7,"event":"e","userId":"u"}`, "type", CodeWrongType, "a number", ""},
		{"type unknown", `{"type":"group","userId":"u","messageId":"m1"}`, "type", CodeInvalid, `"group"`, "m1"},
		{"alias without previousId", `{"type":"alias","userId":"u","messageId":"m3"}`, "previousId", CodeRequired, "id the user had before", "m3"},
		{"alias without userId", `{"type":"alias","previousId":"a","anonymousId":"a"}`, "userId", CodeRequired, "id the user has now", ""},
		{"alias previousId object", `{"type":"alias","previousId":{},"userId":"u"}`, "previousId", CodeWrongType, "an object", ""},
		{"alias previousId too long", `{"type":"alias","userId":"u","previousId":"` + strings.Repeat("p", MaxIDLen+1) + `"}`, "previousId", CodeTooLong, "257", ""},
		{"no ids", `{"type":"track","event":"e","messageId":"m2"}`, "userId", CodeRequired, "userId or anonymousId", "m2"},
		{"empty ids", `{"type":"track","event":"e","userId":"","anonymousId":null}`, "userId", CodeRequired, "userId or anonymousId", ""},
		{"userId bool", `{"type":"track","event":"e","userId":true}`, "userId", CodeWrongType, "a boolean", ""},
		{"anonymousId object", `{"type":"track","event":"e","anonymousId":{}}`, "anonymousId", CodeWrongType, "an object", ""},
		{"userId too long", `{"type":"track","event":"e","userId":"` + strings.Repeat("u", MaxIDLen+1) + `"}`, "userId", CodeTooLong, "257", ""},
		{"anonymousId too long", `{"type":"track","event":"e","anonymousId":"` + strings.Repeat("a", MaxIDLen+1) + `"}`, "anonymousId", CodeTooLong, "257", ""},
		{"messageId number", `{"type":"track","event":"e","userId":"u","messageId":5}`, "messageId", CodeWrongType, "a number", ""},
		{"messageId too long", `{"type":"track","event":"e","userId":"u","messageId":"` + strings.Repeat("m", MaxMessageIDLen+1) + `"}`, "messageId", CodeTooLong, "101", ""},
		{"track without event", `{"type":"track","userId":"u"}`, "event", CodeRequired, "event name", ""},
		{"track empty event", `{"type":"track","event":"","userId":"u"}`, "event", CodeRequired, "event name", ""},
		{"track event number", `{"type":"track","event":3,"userId":"u"}`, "event", CodeWrongType, "a number", ""},
		{"page name array", `{"type":"page","name":["a"],"userId":"u"}`, "name", CodeWrongType, "an array", ""},
		{"timestamp garbage", `{"type":"track","event":"e","userId":"u","timestamp":"yesterday"}`, "timestamp", CodeInvalid, "ISO-8601", ""},
		{"timestamp number", `{"type":"track","event":"e","userId":"u","timestamp":1714552200}`, "timestamp", CodeWrongType, "a number", ""},
		{"timestamp future", `{"type":"track","event":"e","userId":"u","timestamp":"2024-05-02T09:00:00Z"}`, "timestamp", CodeFuture, "ahead", ""},
		{"timestamp future after skew", `{"type":"track","event":"e","userId":"u","timestamp":"2024-05-01T08:30:00Z","sentAt":"2024-04-29T08:30:00Z"}`, "timestamp", CodeFuture, "ahead", ""},
		{"timestamp before 1970", `{"type":"track","event":"e","userId":"u","timestamp":"1969-12-31T23:59:59Z"}`, "timestamp", CodeInvalid, "1970", ""},
		{"sentAt garbage", `{"type":"track","event":"e","userId":"u","sentAt":"soon"}`, "sentAt", CodeInvalid, "ISO-8601", ""},
		{"sentAt bool", `{"type":"track","event":"e","userId":"u","sentAt":false}`, "sentAt", CodeWrongType, "a boolean", ""},
		{"properties array", `{"type":"track","event":"e","userId":"u","properties":[1]}`, "properties", CodeWrongType, "an array", ""},
		{"traits string", `{"type":"identify","userId":"u","traits":"x"}`, "traits", CodeWrongType, "a string", ""},
		{"context number", `{"type":"page","userId":"u","context":1}`, "context", CodeWrongType, "a number", ""},
		{"context region short", `{"type":"track","event":"e","userId":"u","context":{"region_code":"51010401700"}}`, "context.region_code", CodeInvalid, "12-digit", ""},
		{"context region letters", `{"type":"track","event":"e","userId":"u","context":{"region_code":"51010401700a"}}`, "context.region_code", CodeInvalid, "12-digit", ""},
		{"context region bool", `{"type":"track","event":"e","userId":"u","context":{"region_code":true}}`, "context.region_code", CodeInvalid, "true", ""},
		{"context region float", `{"type":"track","event":"e","userId":"u","context":{"region_code":5101040170.01}}`, "context.region_code", CodeInvalid, "12-digit", ""},
		{"properties region", `{"type":"track","event":"e","userId":"u","properties":{"region_code":"5101"}}`, "properties.region_code", CodeInvalid, "12-digit", ""},
		{"service id zero", `{"type":"track","event":"e","userId":"u","properties":{"service_id":0}}`, "properties.service_id", CodeInvalid, "positive integer", ""},
		{"service id negative", `{"type":"track","event":"e","userId":"u","properties":{"service_id":-3}}`, "properties.service_id", CodeInvalid, "positive integer", ""},
		{"service id fraction", `{"type":"track","event":"e","userId":"u","properties":{"service_id":1.5}}`, "properties.service_id", CodeInvalid, "positive integer", ""},
		{"service id huge", `{"type":"track","event":"e","userId":"u","properties":{"service_id":4294967296}}`, "properties.service_id", CodeInvalid, "4294967295", ""},
		{"service id word", `{"type":"track","event":"e","userId":"u","context":{"service_id":"twelve"}}`, "context.service_id", CodeInvalid, "twelve", ""},
		{"service id exponent", `{"type":"track","event":"e","userId":"u","context":{"service_id":1e3}}`, "context.service_id", CodeInvalid, "1e3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, rejs, err := ParseBatch([]byte(`{"batch":[`+tt.item+`]}`), now, src)
			if err != nil {
				t.Fatalf("ParseBatch: %v", err)
			}
			if len(evs) != 0 || len(rejs) != 1 {
				t.Fatalf("got %d events %+v and %d rejections, want 1 rejection", len(evs), evs, len(rejs))
			}
			r := rejs[0]
			if r.Field != tt.wantField || r.Code != tt.wantCode || !strings.Contains(r.Reason, tt.wantIn) || r.MessageID != tt.wantMsgID || r.Index != 0 {
				t.Errorf("rejection = {field %q code %q reason %q msg %q}, want field %q code %q reason containing %q msg %q",
					r.Field, r.Code, r.Reason, r.MessageID, tt.wantField, tt.wantCode, tt.wantIn, tt.wantMsgID)
			}
			if string(r.Raw) != tt.item {
				t.Errorf("Raw = %.80s…, want the item as sent", r.Raw)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantField string
		wantIn    string
	}{
		{"empty", ``, "", "empty"},
		{"not json", `{"batch":[`, "", "not valid JSON"},
		{"array", `[{"type":"track"}]`, "", "not a JSON object"},
		{"string", `"hi"`, "", "not a JSON object"},
		{"no batch", `{"sentAt":"2024-05-01T08:30:00Z"}`, "batch", "required"},
		{"null batch", `{"batch":null}`, "batch", "required"},
		{"batch object", `{"batch":{"type":"track"}}`, "batch", "an array"},
		{"context array", `{"batch":[],"context":[1]}`, "context", "object"},
		{"sentAt garbage", `{"batch":[],"sentAt":"now"}`, "sentAt", "ISO-8601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseBatch([]byte(tt.body), now, src)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *RequestError", err)
			}
			if re.Field != tt.wantField || !strings.Contains(re.Reason, tt.wantIn) {
				t.Errorf("err = {field %q reason %q}, want field %q reason containing %q", re.Field, re.Reason, tt.wantField, tt.wantIn)
			}
		})
	}
	for _, body := range []string{``, `nope`, `[]`, `null`, `{"a":`} {
		if _, _, err := ParseSingle(TypeTrack, []byte(body), now, src); err == nil {
			t.Errorf("ParseSingle(%q): no error", body)
		}
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestParseBatchValid(t *testing.T) {
	body := `{
	  "sentAt": "2024-05-01T08:29:50Z",
	  "context": {"library": {"name": "analytics.js", "version": "1"}, "app": {"name": "citypulse"}, "region_code": "510104017001"},
	  "writeKey": "ignored",
	  "batch": [
	    {"type":"track","event":"Service Viewed","userId":"u1","messageId":"m-1","timestamp":"2024-05-01T08:29:40Z",
	     "properties":{"service_id":"17","region_code":510104017002},"context":{"library":{"version":"2"},"os":{"name":"iOS"}}},
	    {"type":"page","name":"Home","anonymousId":12345678901234567890123},
	    {"type":"identify","userId":42,"traits":{"age":30},"sentAt":"2024-05-01T08:30:00+08:00","timestamp":"2024-05-01T08:30:00+08:00"},
	    {"type":"screen","anonymousId":"a1","name":"Map","context":{"region_code":"510104017003"},"timestamp":"2024-05-01T16:29:00+0800"}
	  ]
	}`
	evs, rejs, err := ParseBatch([]byte(body), now, src)
	if err != nil || len(rejs) != 0 || len(evs) != 4 {
		t.Fatalf("ParseBatch: %d events, rejections %+v, err %v", len(evs), rejs, err)
	}
	for i, ev := range evs {
		if ev.Source != src || !ev.ReceivedAt.Equal(now) {
			t.Errorf("event %d: source %q receivedAt %v", i, ev.Source, ev.ReceivedAt)
		}
		if i > 0 && !hexID.MatchString(ev.MessageID) {
			t.Errorf("event %d: generated messageId %q", i, ev.MessageID)
		}
	}
	tr := evs[0]
	// Skew: client clock 10 s behind, so 08:29:40 becomes 08:29:50.
	if tr.MessageID != "m-1" || tr.Event != "Service Viewed" || tr.Key() != "u1" ||
		!tr.Timestamp.Equal(now.Add(-10*time.Second)) || !tr.SentAt.Equal(now.Add(-10*time.Second)) {
		t.Errorf("track = %+v", tr)
	}
	wantCtx := map[string]any{
		"library":     map[string]any{"name": "analytics.js", "version": "2"},
		"app":         map[string]any{"name": "citypulse"},
		"os":          map[string]any{"name": "iOS"},
		"region_code": "510104017001",
	}
	assertJSON(t, "track context", tr.Context, wantCtx)
	assertJSON(t, "track properties", tr.Properties, map[string]any{"service_id": 17.0, "region_code": "510104017002"})

	pg := evs[1]
	if pg.Type != TypePage || pg.Name != "Home" || pg.AnonymousID != "12345678901234567890123" || pg.Key() != "12345678901234567890123" || !pg.Timestamp.Equal(now) {
		t.Errorf("page = %+v", pg)
	}
	id := evs[2]
	// The item's own sentAt (00:30 UTC) wins over the batch's; its timestamp equals it, so the
	// corrected timestamp is now.
	if id.UserID != "42" || !id.Timestamp.Equal(now) || string(id.Traits) != `{"age":30}` || id.Properties != nil {
		t.Errorf("identify = %+v", id)
	}
	sc := evs[3]
	if !sc.Timestamp.Equal(time.Date(2024, 5, 1, 8, 29, 10, 0, time.UTC)) {
		t.Errorf("screen timestamp = %v", sc.Timestamp)
	}
	assertJSON(t, "screen context", sc.Context, map[string]any{
		"library": map[string]any{"name": "analytics.js", "version": "1"}, "app": map[string]any{"name": "citypulse"},
		"region_code": "510104017003",
	})

	// The canonical JSON has the contract's names.
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"messageId", "type", "event", "userId", "timestamp", "sentAt", "receivedAt", "source", "context", "properties"} {
		if _, ok := m[k]; !ok {
			t.Errorf("event JSON lacks %q: %s", k, b)
		}
	}
	b, _ = json.Marshal(pg)
	if strings.Contains(string(b), `"event"`) || strings.Contains(string(b), `"userId"`) {
		t.Errorf("page JSON carries empty fields: %s", b)
	}
}

func TestMixedBatchKeepsOrderAndIndex(t *testing.T) {
	body := `{"batch":[{"type":"track","event":"a","userId":"u"},{"type":"track","userId":"u"},5,{"type":"page","anonymousId":"x"}]}`
	evs, rejs, err := ParseBatch([]byte(body), now, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Event != "a" || evs[1].Type != TypePage {
		t.Errorf("events = %+v", evs)
	}
	if len(rejs) != 2 || rejs[0].Index != 1 || rejs[0].Field != "event" || rejs[1].Index != 2 || rejs[1].Code != CodeNotObject {
		t.Errorf("rejections = %+v", rejs)
	}
}

func TestParseSingle(t *testing.T) {
	tests := []struct {
		name      string
		typ, body string
		wantField string // "" = accepted
	}{
		{"track", TypeTrack, `{"event":"Login","userId":"u","properties":{"service_id":3}}`, ""},
		{"path type wins", TypeIdentify, `{"type":"track","userId":"u","traits":{"a":1}}`, ""},
		{"page without name", TypePage, `{"anonymousId":"a"}`, ""},
		{"screen", TypeScreen, ` {"anonymousId":"a","name":"Map"} `, ""},
		{"track needs event", TypeTrack, `{"userId":"u"}`, "event"},
		{"unknown path type", "group", `{"userId":"u"}`, "type"},
		{"empty type takes body", "", `{"type":"page","userId":"u"}`, ""},
		{"alias", TypeAlias, `{"previousId":"anon-1","userId":"u-1"}`, ""},
		{"alias needs previousId", TypeAlias, `{"userId":"u-1","anonymousId":"anon-1"}`, "previousId"},
		{"too large", TypeIdentify, `{"userId":"u","traits":{"x":"` + strings.Repeat("y", MaxEventBytes) + `"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, rejs, err := ParseSingle(tt.typ, []byte(tt.body), now, src)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "too large" {
				if len(rejs) != 1 || rejs[0].Code != CodeTooLarge {
					t.Fatalf("rejections = %+v", rejs)
				}
				return
			}
			if tt.wantField != "" {
				if len(rejs) != 1 || rejs[0].Field != tt.wantField || len(evs) != 0 {
					t.Fatalf("events %+v rejections %+v, want rejection of %q", evs, rejs, tt.wantField)
				}
				return
			}
			if len(evs) != 1 || len(rejs) != 0 {
				t.Fatalf("events %+v rejections %+v", evs, rejs)
			}
			if want := tt.typ; want != "" && evs[0].Type != want {
				t.Errorf("type = %q, want %q", evs[0].Type, want)
			}
		})
	}
}

func TestNewDeadLetter(t *testing.T) {
	r := Rejection{Index: 3, MessageID: "m", Field: "event", Code: CodeRequired, Reason: "required", Raw: json.RawMessage(`{"type":"track"}`)}
	dl := NewDeadLetter(r, src, now)
	b, err := json.Marshal(dl)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"reason":"required","field":"event","code":"required","index":3,"messageId":"m","source":"citypulse-app","receivedAt":"2024-05-01T08:30:00Z","raw":{"type":"track"}}`
	if string(b) != want {
		t.Errorf("dead letter JSON\n got %s\nwant %s", b, want)
	}
	r.Raw = json.RawMessage(`{"x":"` + strings.Repeat("é", MaxEventBytes) + `"}`)
	b, err = json.Marshal(NewDeadLetter(r, src, now))
	if err != nil {
		t.Fatalf("oversize raw: %v", err)
	}
	var back DeadLetter
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(back.Raw, &s); err != nil || len(s) > MaxEventBytes+8 {
		t.Errorf("oversize raw kept as %d-byte %s (err %v)", len(back.Raw), JSONKind(back.Raw), err)
	}
	if b, _ := json.Marshal(NewDeadLetter(Rejection{}, src, now)); !strings.Contains(string(b), `"raw":null`) {
		t.Errorf("empty raw: %s", b)
	}
}

func assertJSON(t *testing.T, what string, raw json.RawMessage, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("%s\n got %s\nwant %s", what, gb, wb)
	}
}

func TestFieldShape(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"event":                           "event",
		"properties.query":                "properties.query",
		"properties.cart.items[2].price":  "properties.cart.items[].price",
		"properties.scores[10][2]":        "properties.scores[][]",
		"properties.a[":                   "properties.a[",
		"properties.a[12":                 "properties.a[12",
		"properties.a[]":                  "properties.a[]",
		"context.app.list[0].tags[31][7]": "context.app.list[].tags[][]",
	} {
		if got := FieldShape(in); got != want {
			t.Errorf("FieldShape(%q) = %q, want %q", in, got, want)
		}
	}
}
