package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	`{"batch":[{"type":"track","event":"Login","userId":"u1","properties":{"service_id":12,"region_code":"510104017001"},"context":{"region_code":"510104017001"}}]}`,
	`{"batch":[{"type":"page","name":"Home","anonymousId":"a"},{"type":"identify","userId":7,"traits":{"x":{"y":[1,2,{"z":null}]}}}],"context":{"library":{"name":"js"}},"sentAt":"2024-05-01T08:29:00Z"}`,
	`{"batch":[{"type":"screen","anonymousId":1e400,"timestamp":"2024-05-01T08:30:00+0800"},{"type":"track","event":"x","userId":123456789012345678901234567890}]}`,
	`{"batch":[{"type":"track","event":"e","userId":"u","properties":{"service_id":"0042"}},{"type":"track","event":"e","userId":"u","context":{"service_id":99999999999999999999999}}]}`,
	`{"batch":[[[[[[[[[[{}]]]]]]]]]], "context":{"a":{"b":{"c":{"d":{}}}}}}`,
	`{"batch":[null,true,1,"s",{"type":null},{"type":"track","userId":{"a":1}}]}`,
	`{"batch":[{"type":"track","event":"e","anonymousId":"a","timestamp":"9999-12-31T23:59:59Z","sentAt":"0001-01-01T00:00:00Z"}]}`,
	`{"batch":[{"type":"track","event":"e","anonymousId":"a","timestamp":"0000-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}]}`,
	`{"batch":[{"type":"track","event":"e","anonymousId":"a","messageId":"\u0000\ud800"}],"sentAt":"2024-05-01"}`,
	`{"batch":{"type":"track"}}`,
	`{"batch":[],"context":"x"}`,
	`{"event":"Login","userId":"u","context":{"region_code":510104017001},"properties":{"service_id":1}}`,
	`{"BATCH":[{"TYPE":"track"}]}`,
	`{"batch":[{"type":"track","event":"e","userId":"u","context":{"region_code":"５１０１０４０１７００１"}}]}`,
	`[]`, `null`, `{`, ``, `{"batch":[` + strings.Repeat(`{"type":"page","userId":"u"},`, 50) + `{}]}`,
}

// checkParse asserts what must hold for any body: no panic, request errors typed, every item
// either accepted or rejected, accepted events valid and encodable.
func checkParse(t *testing.T, items int, evs []Event, rejs []Rejection, err error) {
	t.Helper()
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) || re.Reason == "" {
			t.Fatalf("error %v is not a *RequestError with a reason", err)
		}
		if len(evs) != 0 || len(rejs) != 0 {
			t.Fatalf("error with %d events and %d rejections", len(evs), len(rejs))
		}
		return
	}
	if items >= 0 && len(evs)+len(rejs) != items {
		t.Fatalf("%d events + %d rejections for %d items", len(evs), len(rejs), items)
	}
	for _, r := range rejs {
		if r.Reason == "" || r.Code == "" {
			t.Fatalf("rejection without reason or code: %+v", r)
		}
		if _, err := json.Marshal(NewDeadLetter(r, src, now)); err != nil {
			t.Fatalf("dead letter does not encode: %v", err)
		}
	}
	for _, ev := range evs {
		switch ev.Type {
		case TypeTrack:
			if ev.Event == "" {
				t.Fatalf("track without event name: %+v", ev)
			}
		case TypePage, TypeScreen, TypeIdentify:
		default:
			t.Fatalf("accepted type %q", ev.Type)
		}
		if ev.Key() == "" || utf8.RuneCountInString(ev.UserID) > MaxIDLen || utf8.RuneCountInString(ev.AnonymousID) > MaxIDLen {
			t.Fatalf("bad ids: %+v", ev)
		}
		if ev.MessageID == "" || utf8.RuneCountInString(ev.MessageID) > MaxMessageIDLen {
			t.Fatalf("bad messageId %q", ev.MessageID)
		}
		if ev.Timestamp.After(now.Add(MaxFuture)) || ev.Timestamp.Before(time.Unix(0, 0)) {
			t.Fatalf("timestamp %v out of range", ev.Timestamp)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("event does not encode: %v", err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("event JSON does not decode: %v\n%s", err, b)
		}
		for name, raw := range map[string]json.RawMessage{"context": back.Context, "properties": back.Properties, "traits": back.Traits} {
			if raw != nil && kind(raw) != "an object" {
				t.Fatalf("%s is %s", name, kind(raw))
			}
		}
		for _, raw := range []json.RawMessage{back.Context, back.Properties} {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(raw, &m)
			if v, ok := m["region_code"]; ok && present(v) {
				if s, ok := jsonString(v); !ok || len(s) != RegionCodeLen || !allDigits(s) {
					t.Fatalf("region_code %s not normalised", v)
				}
			}
			if v, ok := m["service_id"]; ok && present(v) && (kind(v) != "a number" || !allDigits(string(v))) {
				t.Fatalf("service_id %s not normalised", v)
			}
		}
	}
}

func FuzzParseBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, rejs, err := ParseBatch(body, now, src)
		items := -1
		var b struct{ Batch []json.RawMessage }
		if err == nil && json.Unmarshal(body, &b) == nil {
			items = len(b.Batch)
		}
		checkParse(t, items, evs, rejs, err)
	})
}

func FuzzParseSingle(f *testing.F) {
	for _, typ := range []string{TypeTrack, TypePage, TypeScreen, TypeIdentify, "alias", ""} {
		for _, s := range fuzzSeeds {
			f.Add(typ, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		evs, rejs, err := ParseSingle(typ, body, now, src)
		checkParse(t, 1, evs, rejs, err)
	})
}
