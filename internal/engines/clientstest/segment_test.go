package clientstest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

// row is what the test reads back from dwd_events FINAL for one message.
type row struct {
	Type, Event, UserID, AnonymousID, RegionCode string
	ServiceID                                    uint32
	SessionID, App, OS, Device                   string
	EventTime                                    int64
}

// call is one Segment call as the drivers read it (the HTTP API's shape) and the row it must
// become.
type call struct {
	msg  map[string]any
	want row
}

// segmentCalls are the calls every library sends: each call type, ids with the client's prefix,
// a timestamp with milliseconds and a +08:00 offset, Chinese text, nested and numeric
// properties, the city's dimensions in the context (service_id once as a string).
func segmentCalls(prefix string, ts time.Time) []call {
	stamp := ts.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
	user, anon := prefix+"-user", prefix+"-anon"
	server := map[string]any{"app": map[string]any{"name": "社保服务", "version": "2.3.1"},
		"os": map[string]any{"name": "Linux"}, "device": map[string]any{"type": "server"}}
	ctx := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range server {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	at := ts.Unix()
	return []call{
		{map[string]any{"type": "track", "messageId": prefix + "-t", "userId": user, "anonymousId": anon,
			"event": "appointment_booked", "timestamp": stamp,
			"properties": map[string]any{"hospital": "华西医院", "department": "口腔科", "service_id": 12, "fee": 12.5,
				"slot": map[string]any{"day": "2026-05-01", "am": true}},
			"context": ctx(map[string]any{"region_code": "510104017001", "session_id": "s-" + prefix})},
			row{"track", "appointment_booked", user, anon, "510104017001", 12, "s-" + prefix, "社保服务", "Linux", "server", at}},
		{map[string]any{"type": "page", "messageId": prefix + "-p", "anonymousId": anon, "name": "办事指南", "category": "guide",
			"timestamp": stamp, "properties": map[string]any{"url": "https://h5.example.gov.cn/guide", "path": "/guide"},
			"context": map[string]any{"region_code": "510105001001", "service_id": 7}},
			row{"page", "办事指南", "", anon, "510105001001", 7, "", "", "", "", at}},
		{map[string]any{"type": "screen", "messageId": prefix + "-s", "userId": user, "name": "实时公交", "timestamp": stamp,
			"properties": map[string]any{"line": "27路"},
			"context": map[string]any{"app": map[string]any{"name": "市民云"}, "os": map[string]any{"name": "Android", "version": "14"},
				"device": map[string]any{"type": "android"}, "region_code": "510104017001", "service_id": "3"}},
			row{"screen", "实时公交", user, "", "510104017001", 3, "", "市民云", "Android", "android", at}},
		{map[string]any{"type": "identify", "messageId": prefix + "-i", "userId": user, "anonymousId": anon, "timestamp": stamp,
			"traits": map[string]any{"district": "锦江区", "age_band": "30-39", "verified": true}, "context": ctx(nil)},
			row{"identify", "identify", user, anon, "", 0, "", "社保服务", "Linux", "server", at}},
		{map[string]any{"type": "alias", "messageId": prefix + "-a", "previousId": anon, "userId": user, "timestamp": stamp},
			row{"alias", "alias", user, anon, "", 0, "", "", "", "", at}},
	}
}

// clientResult is a driver's report.
type clientResult struct {
	Library   string   `json:"library"`
	Version   string   `json:"version"`
	Enqueued  int      `json:"enqueued"`
	Errors    []string `json:"errors"`    // Python: on_error reports
	Succeeded []string `json:"succeeded"` // Java: success callbacks
	Failed    []string `json:"failed"`    // Java: failure callbacks
}

// TestSegmentPython sends every call type with segment-analytics-python, as shipped, through
// the real collector and pipeline: once as the library sends by default, once with its gzip
// option.
func TestSegmentPython(t *testing.T) {
	tl := needPython(t)
	s := stacktest.Start(t, stacktest.Options{})
	for _, tt := range []struct {
		name, prefix string
		args         []string
	}{
		{"default", "py", nil},
		{"gzip", "pygz", []string{"--gzip"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := segmentCalls(tt.prefix, time.Now().Add(-time.Hour).Truncate(time.Second).Add(250*time.Millisecond))
			args := append([]string{filepath.Join(tl.deploy, "python", "segment_send.py"), s.URL, stacktest.WriteKey}, tt.args...)
			out := run(t, mustJSON(t, msgs(calls)), nil, tl.python, args...)
			var res clientResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("driver said %s: %v", out, err)
			}
			if want := tl.pin(t, "segment-analytics-python"); res.Library != "analytics-python" || res.Version != want {
				t.Errorf("ran %s %s, want analytics-python %s (requirements.txt): reinstall", res.Library, res.Version, want)
			}
			if res.Enqueued != len(calls) || len(res.Errors) != 0 {
				t.Fatalf("analytics-python enqueued %d, errors %v; want %d and none", res.Enqueued, res.Errors, len(calls))
			}
			checkDelivered(t, s, calls, res)
		})
	}
}

// TestSegmentJava sends every call type with Segment's Java library, as shipped, through the
// real collector and pipeline.
func TestSegmentJava(t *testing.T) {
	tl := needJava(t)
	s := stacktest.Start(t, stacktest.Options{})
	calls := segmentCalls("java", time.Now().Add(-time.Hour).Truncate(time.Second).Add(750*time.Millisecond))
	cp := filepath.Join(tl.javaDir, "classes") + string(filepath.ListSeparator) + filepath.Join(tl.javaDir, "libs", "*")
	out := run(t, mustJSON(t, msgs(calls)), nil, "java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cp,
		"io.github.citypulse.clients.SegmentSend", s.URL, stacktest.WriteKey)
	var res clientResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("driver said %s: %v", out, err)
	}
	if want := tl.javaPin(t); res.Library != "analytics-java" || res.Version != want {
		t.Errorf("ran %s %s, want analytics-java %s (java/pom.xml): reinstall", res.Library, res.Version, want)
	}
	if res.Enqueued != len(calls) || len(res.Succeeded) != len(calls) || len(res.Failed) != 0 {
		t.Fatalf("analytics-java enqueued %d, delivered %d, failed %v; want %d delivered", res.Enqueued, len(res.Succeeded), res.Failed, len(calls))
	}
	checkDelivered(t, s, calls, res)
}

// maxTransitSeconds bounds how much later than sent an event time may be stored (see
// checkDelivered).
const maxTransitSeconds = 5

func msgs(calls []call) []map[string]any {
	out := make([]map[string]any, len(calls))
	for i, c := range calls {
		out[i] = c.msg
	}
	return out
}

// checkDelivered runs the pipeline and checks every call's row in dwd_events, its properties,
// and what the events topic kept beyond dwd_events' columns: the library in the context (Java
// sends it in the batch-level context), the traits and the alias's previousId.
func checkDelivered(t *testing.T, s *stacktest.Stack, calls []call, res clientResult) {
	t.Helper()
	if r := s.RunOnce(); r.Read != int64(len(calls)) || r.Written != int64(len(calls)) || r.DeadLetters != 0 {
		t.Fatalf("pipeline read %d, wrote %d, %d dead letters; want %d, %d, 0", r.Read, r.Written, r.DeadLetters, len(calls), len(calls))
	}
	for _, c := range calls {
		id := c.msg["messageId"].(string)
		var got row
		var et time.Time
		var props string
		err := s.Conn.QueryRow(context.Background(), `SELECT type, event, user_id, anonymous_id, region_code, service_id,
			session_id, app, os, device, event_time, properties FROM dwd_events FINAL WHERE message_id = ?`, id).
			Scan(&got.Type, &got.Event, &got.UserID, &got.AnonymousID, &got.RegionCode, &got.ServiceID,
				&got.SessionID, &got.App, &got.OS, &got.Device, &et, &props)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		// Segment's clock-skew correction adds the time from the library stamping sentAt to
		// the collector receiving the batch (a cold JVM on a busy machine: ~1 s): the stored
		// time may be later than the sent one by that much, never earlier.
		got.EventTime = et.Unix()
		if d := got.EventTime - c.want.EventTime; d >= 0 && d <= maxTransitSeconds {
			got.EventTime = c.want.EventTime
		}
		if got != c.want {
			t.Errorf("%s stored as\n%+v, want\n%+v", id, got, c.want)
		}
		if p, ok := c.msg["properties"]; ok && !sameJSON(t, []byte(props), mustJSON(t, p)) {
			t.Errorf("%s properties %s, want %s", id, props, mustJSON(t, p))
		}
	}

	byID := map[string]event.Event{}
	for _, e := range stacktest.DecodeTopic[event.Event](s, bus.EventsTopic) {
		byID[e.MessageID] = e
	}
	for _, c := range calls {
		id := c.msg["messageId"].(string)
		e, ok := byID[id]
		if !ok {
			t.Errorf("%s is not in the events topic", id)
			continue
		}
		var ctx struct {
			Library struct{ Name, Version string } `json:"library"`
		}
		if err := json.Unmarshal(e.Context, &ctx); err != nil || ctx.Library.Name != res.Library || ctx.Library.Version != res.Version {
			t.Errorf("%s context %s: want library %s %s (%v)", id, e.Context, res.Library, res.Version, err)
		}
		switch c.msg["type"] {
		case "identify":
			if !sameJSON(t, e.Traits, mustJSON(t, c.msg["traits"])) {
				t.Errorf("%s traits %s, want %s", id, e.Traits, mustJSON(t, c.msg["traits"]))
			}
		case "alias":
			if e.PreviousID != c.msg["previousId"] || e.UserID != c.msg["userId"] {
				t.Errorf("%s alias %s → %s, want %s → %s", id, e.PreviousID, e.UserID, c.msg["previousId"], c.msg["userId"])
			}
		}
	}
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("not JSON: %s", a)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Errorf("not JSON: %s", b)
		return false
	}
	return reflect.DeepEqual(x, y)
}
