package event

import (
	"encoding/json"
	"strings"
	"testing"
)

const iphoneMini = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN miniProgram/wx1"

func TestEnrich(t *testing.T) {
	const header = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	tests := []struct {
		name    string
		batch   string // the batch body
		origin  Origin
		wantCtx string // the event's context, re-encoded with sorted keys
	}{
		{"no context: server only",
			`{"batch":[{"type":"page","userId":"u"}]}`, Origin{IP: "203.0.113.0", UserAgent: header},
			`{"server":{"browser":{"name":"Chrome","version":"124.0.0.0"},"device":{"type":"desktop"},"ip":"203.0.113.0","os":{"name":"Windows","version":"10"}}}`},
		{"event userAgent wins over the header, app version normalised",
			`{"batch":[{"type":"page","userId":"u","context":{"userAgent":"` + iphoneMini + `","app":{"name":"x","version":"v3.02.1 (build 7)"}}}]}`, Origin{IP: "203.0.113.0", UserAgent: header},
			`{"app":{"name":"x","version":"v3.02.1 (build 7)"},"server":{"appVersion":"3.2.1","browser":{"name":"WeChat Mini Program","version":"8.0.42"},"device":{"type":"mobile"},"ip":"203.0.113.0","os":{"name":"iOS","version":"16.6"}},"userAgent":"` + iphoneMini + `"}`},
		{"numeric app version from the batch context",
			`{"context":{"app":{"version":12.5}},"batch":[{"type":"page","userId":"u"}]}`, Origin{},
			`{"app":{"version":12.5},"server":{"appVersion":"12.5"}}`},
		{"client ip truncated, client server replaced",
			`{"batch":[{"type":"page","userId":"u","context":{"ip":"192.0.2.77","server":{"ip":"1.2.3.4","admin":true}}}]}`, Origin{IP: "203.0.113.0"},
			`{"ip":"192.0.2.0","server":{"ip":"203.0.113.0"}}`},
		{"client ipv6 truncated, bad ip dropped",
			`{"batch":[{"type":"page","userId":"u","context":{"ip":"2001:db8:abcd:12::1","x":1}}]}`, Origin{},
			`{"ip":"2001:db8:abcd::","x":1}`},
		{"client ip not an address dropped",
			`{"batch":[{"type":"page","userId":"u","context":{"ip":7}}]}`, Origin{},
			`{}`},
		{"nothing to say: context untouched",
			`{"batch":[{"type":"page","userId":"u","context":{ "a" : 1 }}]}`, Origin{UserAgent: "curl/8.0"},
			`{"a":1}`},
		{"empty context object",
			`{"batch":[{"type":"page","userId":"u","context":{ }}]}`, Origin{IP: "10.0.0.0"},
			`{"server":{"ip":"10.0.0.0"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.origin
			evs, rejs, err := Request{Now: now, Source: src, Origin: &o}.ParseBatch([]byte(tt.batch))
			if err != nil || len(rejs) != 0 || len(evs) != 1 {
				t.Fatalf("ParseBatch: %v %+v %+v", err, rejs, evs)
			}
			topLevelKeys(t, evs[0].Context)
			var m any
			if len(evs[0].Context) > 0 {
				if err := json.Unmarshal(evs[0].Context, &m); err != nil {
					t.Fatalf("context %s: %v", evs[0].Context, err)
				}
			} else {
				m = map[string]any{}
			}
			got, _ := json.Marshal(m)
			if string(got) != tt.wantCtx {
				t.Errorf("context\n got %s\nwant %s", got, tt.wantCtx)
			}
		})
	}
	// Without an Origin, nothing is added or scrubbed.
	evs, _, _ := ParseBatch([]byte(`{"batch":[{"type":"page","userId":"u","context":{"ip":"192.0.2.77"}}]}`), now, src)
	if string(evs[0].Context) != `{"ip":"192.0.2.77"}` {
		t.Errorf("without origin: %s", evs[0].Context)
	}
}

func TestTruncateIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0"},
		{"10.1.2.3", "10.1.2.0"},
		{"::ffff:198.51.100.9", "198.51.100.0"},
		{"2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"},
		{"fe80::1%eth0", "fe80::"},
		{"::1", "::"},
		{"nope", ""},
		{"", ""},
		{"203.0.113.77:8080", ""},
	}
	for _, tt := range tests {
		got, ok := TruncateIP(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("TruncateIP(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestNormaliseVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"3.2.1", "3.2.1"},
		{" v3.02.1 (build 7)", "3.2.1"},
		{"V10", "10"},
		{"1.2.3.4.5", "1.2.3.4"},
		{"2024.05", "2024.5"},
		{"1.", "1"},
		{"1.x", "1"},
		{"beta", ""},
		{"", ""},
		{"0.0.1", "0.0.1"},
		{"1234567890.1", ""},
		{"12.5", "12.5"},
	}
	for _, tt := range tests {
		if got := NormaliseVersion(tt.in); got != tt.want {
			t.Errorf("NormaliseVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAliasEvent(t *testing.T) {
	evs, rejs, err := ParseBatch([]byte(`{"batch":[{"type":"alias","previousId":"anon-1","userId":"u-1","messageId":"m"},{"type":"track","event":"e","userId":"u","previousId":"x"}]}`), now, src)
	if err != nil || len(rejs) != 0 || len(evs) != 2 {
		t.Fatalf("%v %+v", err, rejs)
	}
	al := evs[0]
	if al.Type != TypeAlias || al.PreviousID != "anon-1" || al.UserID != "u-1" || al.Key() != "u-1" {
		t.Errorf("alias = %+v", al)
	}
	b, _ := json.Marshal(al)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["previousId"] != "anon-1" {
		t.Errorf("alias JSON %s", b)
	}
	if evs[1].PreviousID != "" {
		t.Errorf("track keeps previousId: %+v", evs[1])
	}
}

func TestNormaliseInPlace(t *testing.T) {
	tests := []struct{ name, props, want string }{
		{"string service id", `{"a":1,"service_id":"17","b":[2]}`, `{"a":1,"service_id":17,"b":[2]}`},
		{"both, with spaces", `{ "region_code" : 510104017001 , "service_id" : "0042" , "z":{} }`, `{ "region_code" : "510104017001" , "service_id" : 42 , "z":{} }`},
		{"service before region", `{"service_id":"3","region_code":510104017001}`, `{"service_id":3,"region_code":"510104017001"}`},
		{"canonical: untouched", `{"service_id":3,"region_code":"510104017001"}`, `{"service_id":3,"region_code":"510104017001"}`},
		{"duplicate: re-encoded, last wins", `{"service_id":"5","x":1,"service_id":"7"}`, `{"service_id":7,"x":1}`},
		{"escaped name", `{"service\u005fid":"9"}`, `{"service\u005fid":9}`},
		{"escaped value", `{"region_code":"\u003510104017001"}`, `{"region_code":"510104017001"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, origin := range []*Origin{nil, {IP: "10.0.0.0"}} {
				body := `{"batch":[{"type":"track","event":"e","userId":"u","properties":` + tt.props + `,"context":` + tt.props + `}]}`
				evs, rejs, err := Request{Now: now, Source: src, Origin: origin}.ParseBatch([]byte(body))
				if err != nil || len(rejs) != 0 || len(evs) != 1 {
					t.Fatalf("%v %+v", err, rejs)
				}
				if got := string(evs[0].Properties); got != tt.want {
					t.Errorf("properties\n got %s\nwant %s", got, tt.want)
				}
				if origin == nil && string(evs[0].Context) != tt.want {
					t.Errorf("context\n got %s\nwant %s", evs[0].Context, tt.want)
				}
			}
		})
	}
}

func TestRejectedRawHasNoFullIP(t *testing.T) {
	body := `{"batch":[{"type":"track","userId":"u","context":{"ip":"192.0.2.77","ip":"198.51.100.5"}}]}`
	_, rejs, err := Request{Now: now, Source: src, Origin: &Origin{}}.ParseBatch([]byte(body))
	if err != nil || len(rejs) != 1 {
		t.Fatalf("%v %+v", err, rejs)
	}
	raw := string(rejs[0].Raw)
	if strings.Contains(raw, "192.0.2.77") || strings.Contains(raw, "198.51.100.5") || !strings.Contains(raw, `"ip":"198.51.100.0"`) {
		t.Errorf("dead letter raw %s", raw)
	}
	// Without an Origin the raw stays as received.
	_, rejs, _ = ParseBatch([]byte(body), now, src)
	if !strings.Contains(string(rejs[0].Raw), "192.0.2.77") {
		t.Errorf("raw without origin %s", rejs[0].Raw)
	}
}

func TestAppendJSON(t *testing.T) {
	evs := []Event{
		{MessageID: `m"1\`, Type: TypeAlias, UserID: "用户<1>", PreviousID: "a\u2028b\x01", Timestamp: now, ReceivedAt: now, Source: "s",
			Context: json.RawMessage(`{ "a" : [1, 2] }`), PlanFlags: []string{"unknown_event", `we"ird`}},
		{MessageID: "m2", Type: TypeTrack, Event: "e", AnonymousID: "a", Timestamp: now, SentAt: now.Add(-1), ReceivedAt: now,
			Properties: json.RawMessage(`{"x":null}`), Traits: json.RawMessage(`{}`)},
		{},
	}
	for i, ev := range evs {
		want, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal(want, &a)
		got := ev.AppendJSON(nil)
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("event %d: AppendJSON gives invalid JSON %s: %v", i, got, err)
		}
		ga, _ := json.Marshal(a)
		gb, _ := json.Marshal(b)
		if string(ga) != string(gb) {
			t.Errorf("event %d:\n AppendJSON %s\njson.Marshal %s", i, got, want)
		}
	}
}
