package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
)

func TestClean(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 20, 17, 30, 0, 0, time.UTC) // 01:30 on the 21st in Shanghai
	recv := ts.Add(2 * time.Second)
	base := event.Event{MessageID: "m1", Type: "page", Name: "实时公交", AnonymousID: "a1", Timestamp: ts, ReceivedAt: recv, Source: "app"}
	with := func(f func(*event.Event)) event.Event { e := base; f(&e); return e }
	tests := []struct {
		name    string
		in      event.Event
		want    func(Row) string // "" when the row is right
		wantErr string
	}{
		{name: "page takes its name and the local date", in: base, want: func(r Row) string {
			if r.EventDate != "2026-11-21" || r.Event != "实时公交" || r.UserKey != "a1" || r.EventTime != ts.Unix() || r.ReceivedAt != recv.Unix() {
				return "basic fields"
			}
			return ""
		}},
		{name: "user id wins the user key", in: with(func(e *event.Event) { e.UserID = "u9" }), want: func(r Row) string {
			if r.UserKey != "u9" || r.AnonymousID != "a1" {
				return "user key"
			}
			return ""
		}},
		{name: "context fields", in: with(func(e *event.Event) {
			e.Context = json.RawMessage(`{"region_code":"510104017001","session_id":77,"app":{"name":" 市民云 "},"os":{"name":"Android"},"device":{"type":"mobile"}}`)
			e.Properties = json.RawMessage(`{"service_id":"12", "x": [1, 2]}`)
		}), want: func(r Row) string {
			if r.RegionCode != "510104017001" || r.SessionID != "77" || r.App != "市民云" || r.OS != "Android" || r.Device != "mobile" || r.ServiceID != 12 || r.Properties != `{"service_id":"12","x":[1,2]}` {
				return "context"
			}
			return ""
		}},
		{name: "bad region and service are blanked", in: with(func(e *event.Event) {
			e.Context = json.RawMessage(`{"region_code":"51x","service_id":-3,"app":"not an object"}`)
		}), want: func(r Row) string {
			if r.RegionCode != "" || r.ServiceID != 0 || r.App != "" || r.Properties != "{}" {
				return "blanking"
			}
			return ""
		}},
		{name: "text is de-noised", in: with(func(e *event.Event) { e.Type = "Track"; e.Event = "  service\x00_open\u200b \n\t now " }), want: func(r Row) string {
			if r.Type != "track" || r.Event != "service_open now" {
				return "denoise: " + r.Event
			}
			return ""
		}},
		{name: "invalid utf-8 replaced", in: with(func(e *event.Event) { e.Name = "a\xffb" }), want: func(r Row) string {
			if r.Event != "a\uFFFDb" {
				return "utf8"
			}
			return ""
		}},
		{name: "missing timestamp uses received time", in: with(func(e *event.Event) { e.Timestamp = time.Time{} }), want: func(r Row) string {
			if r.EventTime != recv.Unix() {
				return "timestamp fallback"
			}
			return ""
		}},
		{name: "identify", in: with(func(e *event.Event) { e.Type = "identify"; e.Name = "" }), want: func(r Row) string {
			if r.Event != "identify" {
				return "identify"
			}
			return ""
		}},
		{name: "alias keeps the previous id", in: with(func(e *event.Event) { e.Type = "alias"; e.AnonymousID = ""; e.UserID = "u1"; e.PreviousID = "anon-7" }), want: func(r Row) string {
			if r.Event != "alias" || r.UserID != "u1" || r.AnonymousID != "anon-7" || r.UserKey != "u1" {
				return "alias"
			}
			return ""
		}},
		{name: "alias without previous id", in: with(func(e *event.Event) { e.Type = "alias"; e.UserID = "u1" }), wantErr: "previousId"},
		{name: "no identity", in: with(func(e *event.Event) { e.AnonymousID = " " }), wantErr: "neither userId nor anonymousId"},
		{name: "unknown type", in: with(func(e *event.Event) { e.Type = "alias2" }), wantErr: "type"},
		{name: "ancient time", in: with(func(e *event.Event) { e.Timestamp = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC) }), wantErr: "before 2000"},
		{name: "no message id", in: with(func(e *event.Event) { e.MessageID = "" }), wantErr: "messageId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Clean(tt.in, sh)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrUnusable mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.want(r); msg != "" {
				t.Fatalf("%s wrong: %+v", msg, r)
			}
		})
	}
}

func TestRowValuesMatchColumns(t *testing.T) {
	r := Row{EventDate: "2026-11-21", EventTime: 1, ReceivedAt: 2, MessageID: "m"}
	v, err := r.Values(time.UTC, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != len(Columns) {
		t.Fatalf("%d values for %d columns", len(v), len(Columns))
	}
	if _, err := (Row{EventDate: "21/11/2026"}).Values(time.UTC, time.Now()); err == nil {
		t.Fatal("want an error for a malformed date")
	}
}

func FuzzClean(f *testing.F) {
	f.Add([]byte(`{"messageId":"m","type":"track","event":"x","anonymousId":"a","timestamp":"2026-01-01T00:00:00Z","context":{"region_code":"510104017001"},"properties":{"service_id":3}}`))
	f.Add([]byte(`{"messageId":"m","type":"page","userId":"u","context":{"app":{"name":5}},"properties":{"service_id":"1e3"}}`))
	f.Add([]byte(`{"messageId":"\u0000","type":"screen","name":"\ud800","userId":"u"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e event.Event
		if json.Unmarshal(b, &e) != nil {
			return
		}
		r, err := Clean(e, time.UTC)
		if err != nil {
			return
		}
		if r.UserKey == "" || r.MessageID == "" || len(r.EventDate) != 10 {
			t.Fatalf("accepted row lacks identity or date: %+v", r)
		}
		if r.RegionCode != "" && len(r.RegionCode) != 12 {
			t.Fatalf("region code %q", r.RegionCode)
		}
		if !json.Valid([]byte(r.Properties)) {
			t.Fatalf("properties not JSON: %q", r.Properties)
		}
	})
}

// FuzzMembers: the fast member reader agrees with decoding the object into a map, for every
// key the input has and for the keys Clean reads.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{"region_code":"510104017001","app":{"name":"市民云"},"os":{"name":"iOS","version":"17"},"device":{"type":"ios"}}`,
		`{"a":1,"a":2, "b" : [1,{"c":"}"}] ,"d":"x\"y","e":true,"f":null,"g":-1.5e3}`,
		`{"region\u005fcode":"1","region_code":"2"}`, `{}`, ` { } `, `[1]`, `"x"`, `{"a":}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := object(b)
		keys := append([]string{}, contextKeys...)
		for k := range m {
			keys = append(keys, k)
		}
		vals := make([]json.RawMessage, len(keys))
		lookup(b, keys, vals)
		for i, k := range keys {
			if !bytes.Equal(vals[i], m[k]) {
				t.Fatalf("key %q: lookup %q, map %q (input %q)", k, vals[i], m[k], b)
			}
		}
	})
}

func BenchmarkClean(b *testing.B) {
	raw := []byte(`{"messageId":"m-1","type":"page","name":"首页","anonymousId":"a-1","userId":"u-1","timestamp":"2026-01-01T00:00:00Z",
"receivedAt":"2026-01-01T00:00:01Z","source":"citypulse-app","context":{"app":{"name":"市民云","version":"5.2.0"},"os":{"name":"Android","version":"14"},
"device":{"type":"android","model":"P60"},"region_code":"510104017001","session_id":"s-1","page":{"path":"/home","url":"https://x/home"},
"server":{"ip":"10.0.0.0","user_agent":"Mozilla/5.0"}},"properties":{"service_id":12,"path":"/home","title":"首页"}}`)
	var e event.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Clean(e, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCleanFastPaths: Clean's fast paths give what the general code gives, for any input: the
// text cleaner, the scalar reader, the properties compactor and member lookups inside an
// already validated object.
func FuzzCleanFastPaths(f *testing.F) {
	for _, s := range []string{`"首页"`, `" a  b "`, `12`, `012`, `-1.5e3`, `"a\"b"`, "\"\x7f\"", `"\u2028"`, "\"\xc2\xa0x\"",
		`{"a": 1}`, `{"a":"x y","b":[1,2]}`, `{"t":"<&>\u2028"}`, "{\"a\":\"\xff\"}", `{"app":{"name":"x","name":"y"}}`} {
		f.Add([]byte(s), 5)
	}
	f.Fuzz(func(t *testing.T, raw []byte, max int) {
		max = 1 + abs(max)%600
		if got, want := cleanText(string(raw), max), cleanTextSlow(string(raw), max); got != want {
			t.Fatalf("cleanText(%q, %d) = %q, want %q", raw, max, got, want)
		}
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 {
			if got, want := scalar(raw), scalarSlow(trimmed); got != want {
				t.Fatalf("scalar(%q) = %q, want %q", raw, got, want)
			}
		}
		want := "{}"
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '{' {
			var b bytes.Buffer
			if json.Compact(&b, trimmed) == nil {
				want = strings.ToValidUTF8(b.String(), "\uFFFD")
			}
		}
		if got := compactJSON(raw); got != want {
			t.Fatalf("compactJSON(%q) = %q, want %q", raw, got, want)
		}
		for k, v := range object(raw) {
			var vals [2]json.RawMessage
			lookupOf(v, []string{"name", "type"}, vals[:], true)
			m := object(v)
			if !bytes.Equal(vals[0], m["name"]) || !bytes.Equal(vals[1], m["type"]) {
				t.Fatalf("lookup in %q of %q: %q, want %q %q", k, v, vals, m["name"], m["type"])
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
