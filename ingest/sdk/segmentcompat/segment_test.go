package segmentcompat_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	segment "github.com/segmentio/analytics-go/v3"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// callback records what the Segment client reports per message.
type callback struct {
	mu     sync.Mutex
	ok     []string // message ids
	failed []error
}

func (c *callback) Success(m segment.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = append(c.ok, messageID(m))
}

func (c *callback) Failure(_ segment.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = append(c.failed, err)
}

func messageID(m segment.Message) string {
	switch m := m.(type) {
	case segment.Track:
		return m.MessageId
	case segment.Page:
		return m.MessageId
	case segment.Screen:
		return m.MessageId
	case segment.Identify:
		return m.MessageId
	case segment.Alias:
		return m.MessageId
	}
	return ""
}

// TestSegmentGoSDK sends every call type with analytics-go, unchanged but for its Endpoint, to
// the real collector, runs the real pipeline, and reads the rows in ClickHouse.
func TestSegmentGoSDK(t *testing.T) {
	s := newStack(t)
	var cb callback
	client, err := segment.NewWithConfig("citypulse-dev-key", segment.Config{
		Endpoint:  s.URL,
		Interval:  50 * time.Millisecond,
		BatchSize: 100,
		Callback:  &cb,
		Logger:    segment.StdLogger(slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelInfo)),
		DefaultContext: &segment.Context{
			App:    segment.AppInfo{Name: "市民云", Version: "5.2.0"},
			OS:     segment.OSInfo{Name: "Android", Version: "14"},
			Device: segment.DeviceInfo{Type: "android", Model: "Mate 60"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Hour).Truncate(time.Second).Add(500 * time.Millisecond)
	city := func(region string, service int) *segment.Context {
		return &segment.Context{Extra: map[string]any{"region_code": region, "service_id": service, "session_id": "sess-1"}}
	}
	msgs := []segment.Message{
		segment.Track{MessageId: "seg-t", AnonymousId: "anon-1", Event: "service_open", Timestamp: ts,
			Properties: segment.NewProperties().Set("entry", "home_grid"), Context: city("510104017001", 12)},
		segment.Page{MessageId: "seg-p", AnonymousId: "anon-1", Name: "办事指南", Timestamp: ts,
			Properties: segment.NewProperties().SetURL("https://h5.example.gov/guide"), Context: city("510105001001", 7)},
		segment.Screen{MessageId: "seg-s", UserId: "user-1", Name: "实时公交", Timestamp: ts, Context: city("510104017001", 3)},
		segment.Identify{MessageId: "seg-i", UserId: "user-1", AnonymousId: "anon-1", Timestamp: ts,
			Traits: segment.NewTraits().SetName("张三").Set("district", "锦江区")},
		segment.Alias{MessageId: "seg-a", PreviousId: "anon-1", UserId: "user-1", Timestamp: ts},
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if len(cb.ok) != len(msgs) || len(cb.failed) != 0 {
		t.Fatalf("segment client: %d succeeded, failures %v; want %d successes", len(cb.ok), cb.failed, len(msgs))
	}

	if res := s.RunOnce(); res.Read != int64(len(msgs)) || res.Written != int64(len(msgs)) || res.DeadLetters != 0 {
		t.Fatalf("pipeline %+v, want %d read and written, no dead letters", res, len(msgs))
	}
	// The alias joins the anonymous history to the user in dwd_events.
	if n := s.Count("SELECT count() FROM dwd_events FINAL WHERE message_id = 'seg-a' AND type = 'alias' AND user_id = 'user-1' AND anonymous_id = 'anon-1'"); n != 1 {
		t.Errorf("%d alias rows joining anon-1 to user-1, want 1", n)
	}
	type row struct {
		Type, Event, UserID, AnonymousID, RegionCode string
		ServiceID                                    uint32
		SessionID, App, OS, Device                   string
		EventTime                                    int64
	}
	want := map[string]row{
		"seg-t": {"track", "service_open", "", "anon-1", "510104017001", 12, "sess-1", "市民云", "Android", "android", ts.Unix()},
		"seg-p": {"page", "办事指南", "", "anon-1", "510105001001", 7, "sess-1", "市民云", "Android", "android", ts.Unix()},
		"seg-s": {"screen", "实时公交", "user-1", "", "510104017001", 3, "sess-1", "市民云", "Android", "android", ts.Unix()},
		"seg-i": {"identify", "identify", "user-1", "anon-1", "", 0, "", "市民云", "Android", "android", ts.Unix()},
	}
	for id, w := range want {
		var got row
		var et time.Time
		err := s.Conn.QueryRow(context.Background(), `SELECT type, event, user_id, anonymous_id, region_code, service_id,
			session_id, app, os, device, event_time FROM dwd_events FINAL WHERE message_id = ?`, id).
			Scan(&got.Type, &got.Event, &got.UserID, &got.AnonymousID, &got.RegionCode, &got.ServiceID,
				&got.SessionID, &got.App, &got.OS, &got.Device, &et)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		got.EventTime = et.Unix()
		if got != w {
			t.Errorf("%s stored as\n%+v, want\n%+v", id, got, w)
		}
	}
	var props string
	if err := s.Conn.QueryRow(context.Background(), "SELECT properties FROM dwd_events WHERE message_id = 'seg-p'").Scan(&props); err != nil || !strings.Contains(props, `"url":"https://h5.example.gov/guide"`) {
		t.Errorf("seg-p properties %s (%v), want the url", props, err)
	}

	// The collector kept what dwd_events has no column for: the traits and the library, and the
	// alias with its previousId.
	byID := map[string]event.Event{}
	for _, e := range s.events() {
		byID[e.MessageID] = e
	}
	if a := byID["seg-a"]; a.Type != "alias" || a.PreviousID != "anon-1" || a.UserID != "user-1" {
		t.Errorf("alias in the events topic: %+v, want anon-1 → user-1", a)
	}
	if i := byID["seg-i"]; !strings.Contains(string(i.Traits), `"name":"张三"`) || !strings.Contains(string(i.Context), `"library":{"name":"analytics-go"`) {
		t.Errorf("identify in the events topic: traits %s, context %s", i.Traits, i.Context)
	}
}

// stack is the collector on the embedded broker, the events pipeline and a ClickHouse
// database of the test's own (internal/testenv/stacktest).
type stack struct {
	*stacktest.Stack
	t *testing.T
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return &stack{Stack: stacktest.Start(t, stacktest.Options{}), t: t}
}

// events reads the events topic from the start: the canonical events the collector wrote.
func (s *stack) events() []event.Event {
	s.t.Helper()
	return stacktest.DecodeTopic[event.Event](s.Stack, bus.EventsTopic)
}
