package event

import (
	"encoding/json"
	"errors"
	"reflect"
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
	`{"batch":[{"type":"alias","previousId":"anon","userId":"u"},{"type":"alias","previousId":5,"userId":"u"},{"type":"alias","userId":"u"}]}`,
	`{"batch":[{"type":"page","userId":"u","context":{"ip":"203.0.113.77","server":{"ip":"1.2.3.4"},"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) MicroMessenger/8.0.1 miniProgram","app":{"version":"v3.02.1 (7)"}}}],"context":{"ip":"::ffff:10.1.2.3"}}`,
	`{"batch":[{"type":"page","userId":"u","context":{"ip":"nope","app":{"version":12.5}}},{"type":"page","userId":"u","context":{ }}]}`,
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
		case TypeAlias:
			if ev.PreviousID == "" || ev.UserID == "" || utf8.RuneCountInString(ev.PreviousID) > MaxIDLen {
				t.Fatalf("alias without both ids: %+v", ev)
			}
		case TypePage, TypeScreen, TypeIdentify:
		default:
			t.Fatalf("accepted type %q", ev.Type)
		}
		if ev.Type != TypeAlias && ev.PreviousID != "" {
			t.Fatalf("previousId on a %s: %+v", ev.Type, ev)
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
		var viaMarshal, viaAppend any
		_ = json.Unmarshal(b, &viaMarshal)
		appended := ev.AppendJSON(nil)
		if err := json.Unmarshal(appended, &viaAppend); err != nil || !reflect.DeepEqual(viaMarshal, viaAppend) {
			t.Fatalf("AppendJSON differs from json.Marshal (%v):\n%s\n%s", err, appended, b)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("event JSON does not decode: %v\n%s", err, b)
		}
		for name, raw := range map[string]json.RawMessage{"context": back.Context, "properties": back.Properties, "traits": back.Traits} {
			if raw != nil && JSONKind(raw) != "an object" {
				t.Fatalf("%s is %s", name, JSONKind(raw))
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
			if v, ok := m["service_id"]; ok && present(v) && (JSONKind(v) != "a number" || !allDigits(string(v))) {
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
		if items >= 0 {
			checkStrings(t, b.Batch, evs, rejs)
		}
		// The jsontext scanner must agree with encoding/json on what is JSON.
		if !json.Valid(body) && err == nil {
			t.Fatalf("invalid JSON accepted: %q", body)
		}
		var whole struct {
			Batch   []json.RawMessage
			Context json.RawMessage
			SentAt  json.RawMessage
		}
		if json.Unmarshal(body, &whole) == nil && whole.Batch != nil && whole.Context == nil && whole.SentAt == nil && err != nil {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(body, &m)
			if _, ok := m["batch"]; ok && len(m) == 1 {
				t.Fatalf("valid batch refused: %v: %q", err, body)
			}
		}
	})
}

// checkStrings holds the strings of the accepted events (decoded by the parser, in a
// per-request arena or through its memo) to encoding/json's decoding of the items' members.
func checkStrings(t *testing.T, items []json.RawMessage, evs []Event, rejs []Rejection) {
	t.Helper()
	rejected := map[int]bool{}
	for _, r := range rejs {
		rejected[r.Index] = true
	}
	k := 0
	for i, raw := range items {
		if rejected[i] {
			continue
		}
		if k >= len(evs) {
			t.Fatalf("fewer events than accepted items")
		}
		ev := &evs[k]
		k++
		var m map[string]json.RawMessage // exact names, the last of a repeated one wins
		if json.Unmarshal(raw, &m) != nil {
			t.Fatalf("accepted item %d does not decode: %s", i, raw)
		}
		for name, got := range map[string]string{"messageId": ev.MessageID, "type": ev.Type, "event": ev.Event, "name": ev.Name, "userId": ev.UserID, "anonymousId": ev.AnonymousID} {
			var want string
			if json.Unmarshal(m[name], &want) != nil || (name == "name" && ev.Type != TypePage && ev.Type != TypeScreen) || (name == "event" && ev.Type != TypeTrack) {
				continue // absent, not a string or not read for this type
			}
			if name == "messageId" && want == "" {
				continue // a new id was made
			}
			if got != want {
				t.Fatalf("item %d: %s = %q, encoding/json decodes %q", i, name, got, want)
			}
		}
	}
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

// FuzzParseEnriched parses with an Origin: besides checkParse, every accepted event's context is
// one object without duplicate keys, its context.server decodes into Server, and no IP in it is
// more precise than its /24 or /48.
func FuzzParseEnriched(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36")
	}
	f.Fuzz(func(t *testing.T, body []byte, ua string) {
		r := Request{Now: now, Source: src, Origin: &Origin{IP: "198.51.100.0", UserAgent: ua}}
		evs, rejs, err := r.ParseBatch(body)
		checkParse(t, -1, evs, rejs, err)
		for _, rej := range rejs {
			var item, ctx map[string]json.RawMessage // exact names, as the collector reads them
			var ip string
			if json.Unmarshal(rej.Raw, &item) == nil && json.Unmarshal(item["context"], &ctx) == nil && json.Unmarshal(ctx["ip"], &ip) == nil {
				if tr, ok := TruncateIP(ip); ok && tr != ip {
					t.Fatalf("dead letter keeps the full context.ip %q: %s", ip, rej.Raw)
				}
			}
		}
		for _, ev := range evs {
			keys := topLevelKeys(t, ev.Context)
			var ctx struct {
				IP     *string `json:"ip"`
				Server Server  `json:"server"`
			}
			if err := json.Unmarshal(ev.Context, &ctx); err != nil {
				t.Fatalf("context %s: %v", ev.Context, err)
			}
			if !keys["server"] || ctx.Server.IP != "198.51.100.0" {
				t.Fatalf("server %+v", ctx.Server)
			}
			if ctx.IP != nil {
				if tr, ok := TruncateIP(*ctx.IP); !ok || tr != *ctx.IP {
					t.Fatalf("context.ip %q is not truncated", *ctx.IP)
				}
			}
		}
	})
}

// topLevelKeys returns the keys of a JSON object, failing on a duplicate.
func topLevelKeys(t *testing.T, raw json.RawMessage) map[string]bool {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("context %s is not an object", raw)
	}
	keys := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("context %s: %v", raw, err)
		}
		k := tok.(string)
		if keys[k] {
			t.Fatalf("context %s: key %q twice", raw, k)
		}
		keys[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("context %s: %v", raw, err)
		}
	}
	return keys
}
