package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/ingest/event"
)

func testChecker(t testing.TB) *Checker {
	t.Helper()
	c, err := Compile(loadTestPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func track(name, props string) *event.Event {
	return &event.Event{MessageID: "m1", Type: event.TypeTrack, Event: name, Properties: json.RawMessage(props)}
}

func TestCheck(t *testing.T) {
	c := testChecker(t)
	const app = "citypulse-app"
	for _, tc := range []struct {
		name   string
		source string
		ev     *event.Event
		field  string // "" with rule "": passes
		rule   string
		reason string // a part of the reason
		flags  string
	}{
		{name: "valid", ev: track("service_open", `{"service_id": 101, "category": "公积金"}`)},
		{name: "extra properties pass", ev: track("service_open", `{"service_id":101,"category":"公积金","x":[1,{"y":"}"}]}`)},
		{name: "integer written as 101.0", ev: track("service_open", `{"service_id":101.0,"category":"其他"}`)},
		{name: "required missing", ev: track("service_open", `{"category":"公积金"}`), field: "properties.service_id", rule: RuleRequired, reason: "required by the tracking plan for track service_open: a integer"},
		{name: "no properties at all", ev: track("service_open", ``), field: "properties.category", rule: RuleRequired},
		{name: "null is absent", ev: track("service_open", `{"service_id":null,"category":"其他"}`), field: "properties.service_id", rule: RuleRequired},
		{name: "wrong type", ev: track("service_open", `{"service_id":"101","category":"其他"}`), field: "properties.service_id", rule: RuleType, reason: "must be an integer, not a string"},
		{name: "fraction for integer", ev: track("service_open", `{"service_id":1.5,"category":"其他"}`), field: "properties.service_id", rule: RuleType, reason: "must be an integer, not 1.5"},
		{name: "below min", ev: track("service_open", `{"service_id":0,"category":"其他"}`), field: "properties.service_id", rule: RuleMin, reason: "0 is less than the minimum 1"},
		{name: "above max", ev: track("service_complete", `{"service_id":1,"category":"其他","duration_ms":86400001}`), field: "properties.duration_ms", rule: RuleMax},
		{name: "enum", ev: track("service_open", `{"service_id":1,"category":"购物"}`), field: "properties.category", rule: RuleEnum, reason: `"购物" is not one of "社保医保"`},
		{name: "escaped enum value matches", ev: track("service_open", `{"service_id":1,"category":"\u5176\u4ed6"}`)},
		{name: "min_length", ev: track("search", `{"query":""}`), field: "properties.query", rule: RuleMinLength, reason: "is 0 characters, fewer than the minimum 1"},
		{name: "max_length counts characters", ev: track("search", `{"query":"`+strings.Repeat("医", 100)+`"}`)},
		{name: "max_length", ev: track("search", `{"query":"`+strings.Repeat("医", 101)+`"}`), field: "properties.query", rule: RuleMaxLength, reason: "is 101 characters, more than the maximum 100"},
		{name: "pattern", ev: track("notice_click", `{"notice_id":"x1","channel":"push"}`), field: "properties.notice_id", rule: RulePattern, reason: `"x1" does not match the pattern ^n[0-9a-f]{8,32}$`},
		{name: "boolean", ev: track("feedback_submit", `{"topic":"safety","satisfaction":4,"anonymous":"yes"}`), field: "properties.anonymous", rule: RuleType, reason: "must be a boolean, not a string"},
		{name: "array", ev: track("feedback_submit", `{"topic":"safety","satisfaction":4,"tags":"a"}`), field: "properties.tags", rule: RuleType, reason: "must be an array, not a string"},
		{name: "number", ev: track("space_booking_created", `{"space_id":"sp-1","slot_start":"2026-05-01T09:00","attendees":3,"fee_yuan":12.5}`), source: "booking-service"},
		{name: "app not enabled", ev: track("space_booking_created", `{}`), field: "event", rule: RuleAppNotEnabled, reason: `track space_booking_created is not enabled for app "citypulse-app" in the tracking plan (enabled for: booking-service)`},
		{name: "disabled", ev: track("banner_click", `{}`), field: "event", rule: RuleDisabled, reason: "track banner_click is disabled"},
		{name: "unknown flagged", ev: track("shake_phone", `{}`), flags: FlagUnknownEvent},
		{name: "unknown rejected for booking-service", source: "booking-service", ev: track("shake_phone", `{}`), field: "event", rule: RuleUnknownEvent, reason: `track "shake_phone" is not in the tracking plan, which rejects unknown events from app "booking-service"`},
		{name: "page wildcard", source: "citypulse-h5", ev: &event.Event{Type: event.TypePage, Name: "公积金查询", Properties: json.RawMessage(`{"path":"/services/12","url":"https://h5.example/services/12"}`)}},
		{name: "page pattern", source: "citypulse-h5", ev: &event.Event{Type: event.TypePage, Name: "x", Properties: json.RawMessage(`{"path":"services/12"}`)}, field: "properties.path", rule: RulePattern},
		{name: "page app", source: "booking-service", ev: &event.Event{Type: event.TypePage, Name: "x", Properties: json.RawMessage(`{"path":"/"}`)}, field: "name", rule: RuleAppNotEnabled},
		{name: "screen", ev: &event.Event{Type: event.TypeScreen, Name: "社保查询", Properties: json.RawMessage(`{}`)}, field: "properties.service_id", rule: RuleRequired},
		{name: "identify traits", ev: &event.Event{Type: event.TypeIdentify, Traits: json.RawMessage(`{"gender":"female","age_group":"25-34","region_code":"510104017001"}`)}},
		{name: "identify trait enum", ev: &event.Event{Type: event.TypeIdentify, Traits: json.RawMessage(`{"gender":"f","region_code":"510104017001"}`)}, field: "traits.gender", rule: RuleEnum},
		{name: "identify trait required", ev: &event.Event{Type: event.TypeIdentify, Traits: json.RawMessage(`{}`)}, field: "traits.region_code", rule: RuleRequired, reason: "for identify: a string"},
		{name: "context pattern", ev: &event.Event{Type: event.TypeTrack, Event: "search", Properties: json.RawMessage(`{"query":"社保"}`), Context: json.RawMessage(`{"region_code":"5101"}`)}, field: "context.region_code", rule: RulePattern},
		{name: "context checked on unknown events", ev: &event.Event{Type: event.TypeTrack, Event: "new_thing", Context: json.RawMessage(`{"app":"市民云"}`)}, field: "context.app", rule: RuleType, reason: "must be an object, not a string"},
		{name: "context valid", ev: &event.Event{Type: event.TypeTrack, Event: "search", Properties: json.RawMessage(`{"query":"社保"}`), Context: json.RawMessage(` { "app" : {"name":"市民云"} , "region_code" : "510104017001" } `)}},
		{name: "properties not an object", ev: track("search", `[1]`), field: "properties", rule: RuleType},
		{name: "broken JSON", ev: track("search", `{"query":"a"`), field: "properties", rule: RuleType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source
			if src == "" {
				src = app
			}
			rej, flags := c.Check(src, tc.ev)
			if got := strings.Join(flags, ","); got != tc.flags {
				t.Errorf("flags = %q, want %q", got, tc.flags)
			}
			if tc.rule == "" {
				if rej != nil {
					t.Fatalf("rejected: %+v", rej)
				}
				return
			}
			if rej == nil {
				t.Fatalf("passed; want %s on %s", tc.rule, tc.field)
			}
			if rej.Code != event.CodePlan || rej.Rule != tc.rule || rej.Field != tc.field || rej.MessageID != tc.ev.MessageID {
				t.Fatalf("got %+v; want rule %s on %s", rej, tc.rule, tc.field)
			}
			if !strings.Contains(rej.Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", rej.Reason, tc.reason)
			}
			wantEvent := tc.ev.Event
			switch tc.ev.Type {
			case event.TypePage, event.TypeScreen:
				wantEvent = tc.ev.Name
			case event.TypeIdentify:
				wantEvent = "identify"
			}
			if rej.Event != wantEvent {
				t.Fatalf("Event = %q, want %q", rej.Event, wantEvent)
			}
		})
	}
}

func TestCheckPolicies(t *testing.T) {
	for _, tc := range []struct {
		yaml   string
		source string
		rule   string
		flags  string
	}{
		{"unknown_events: allow\nevents: []\n", "a", "", ""},
		{"unknown_events: flag\nevents: []\n", "a", "", FlagUnknownEvent},
		{"unknown_events: reject\nevents: []\n", "a", RuleUnknownEvent, ""},
		{"unknown_events: reject\napps: {a: {unknown_events: allow}}\nevents: []\n", "a", "", ""},
		{"unknown_events: reject\napps: {a: {unknown_events: allow}}\nevents: []\n", "b", RuleUnknownEvent, ""},
		{"events: []\n", "a", "", FlagUnknownEvent}, // the default is flag
		{"unknown_events: reject\nevents: [{type: identify}]\n", "a", RuleUnknownEvent, ""},
	} {
		p, err := Parse([]byte(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		rej, flags := c.Check(tc.source, track("x", `{}`))
		got := ""
		if rej != nil {
			got = rej.Rule
		}
		if got != tc.rule || strings.Join(flags, ",") != tc.flags {
			t.Errorf("%q from %s: rule %q flags %v; want %q %q", tc.yaml, tc.source, got, flags, tc.rule, tc.flags)
		}
	}
}

func TestCompileLimits(t *testing.T) {
	p := Plan{Events: make([]Event, MaxEvents+1)}
	p.normalize()
	err := p.Validate()
	if err == nil || err.Error() != "events: 5001 events, more than the 5000 allowed" {
		t.Fatalf("err = %v", err)
	}
	props := map[string]Property{}
	for i := 0; i <= MaxProperties; i++ {
		props[strings.Repeat("p", i+1)] = Property{Type: TypeString}
	}
	p = Plan{Context: props}
	p.normalize()
	if err := p.Validate(); err == nil || err.Error() != "context: 501 fields, more than the 500 allowed" {
		t.Fatalf("err = %v", err)
	}
	// More than 64 fields uses the slow path for the seen set.
	props = map[string]Property{}
	for i := range 70 {
		props["p"+strings.Repeat("x", i)] = Property{Type: TypeInteger, Required: i == 69}
	}
	c, err := Compile(Plan{Events: []Event{{Name: "big", Properties: props}}})
	if err != nil {
		t.Fatal(err)
	}
	if rej, _ := c.Check("a", track("big", `{"p":1}`)); rej == nil || rej.Rule != RuleRequired {
		t.Fatalf("got %+v, want required", rej)
	}
}
