package analytics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/sdk/go/analytics"
)

// row is what dwd_events keeps of one message.
type row struct {
	Type, Event, UserID, AnonymousID, RegionCode string
	ServiceID                                    uint32
	SessionID, App, OS, Device, Source           string
	Properties                                   string
	EventTime                                    int64
}

func (s *stack) row(messageID string) (row, bool) {
	s.t.Helper()
	var r row
	var et time.Time
	err := s.Conn.QueryRow(context.Background(), `SELECT type, event, user_id, anonymous_id, region_code, service_id,
		session_id, app, os, device, source, properties, event_time FROM dwd_events FINAL WHERE message_id = ?`, messageID).
		Scan(&r.Type, &r.Event, &r.UserID, &r.AnonymousID, &r.RegionCode, &r.ServiceID,
			&r.SessionID, &r.App, &r.OS, &r.Device, &r.Source, &r.Properties, &et)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return row{}, false
		}
		s.t.Fatalf("row %s: %v", messageID, err)
	}
	r.EventTime = et.Unix()
	return r, true
}

// TestDeliveryToWarehouse sends every call type through the SDK, the real collector, broker and
// pipeline, and reads the rows back; nothing is sent before Close, which must flush it all.
func TestDeliveryToWarehouse(t *testing.T) {
	s := newStack(t, nil)
	c, err := analytics.New(writeKey, s.URL,
		analytics.WithFlushInterval(time.Hour), analytics.WithBatchSize(1000), // only Close sends
		analytics.WithDefaultContext(analytics.Context{App: analytics.App{Name: "市民云-服务端"}, Device: analytics.Device{Type: "server"}}),
		analytics.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Hour).Truncate(time.Second).Add(500 * time.Millisecond)
	msgs := []analytics.Message{
		analytics.Track{MessageID: "t-1", UserID: "u-1", AnonymousID: "a-1", Event: "appointment_booked", Timestamp: ts,
			Properties: analytics.Properties{"hospital": "华西医院", "service_id": 12},
			Context:    &analytics.Context{RegionCode: "510104017001", SessionID: "s-1", OS: analytics.OS{Name: "Linux"}}},
		analytics.Page{MessageID: "p-1", AnonymousID: "a-2", Name: "办事指南", Timestamp: ts,
			Context: &analytics.Context{RegionCode: "510105001001", ServiceID: 7}},
		analytics.Screen{MessageID: "s-1", UserID: "u-3", Name: "实时公交", Timestamp: ts,
			Context: &analytics.Context{RegionCode: "510104017001", ServiceID: 3, App: analytics.App{Name: "市民云"}, Device: analytics.Device{Type: "ios"}}},
		analytics.Identify{MessageID: "i-1", UserID: "u-1", AnonymousID: "a-1", Timestamp: ts, Traits: analytics.Traits{"district": "锦江区"}},
		analytics.Alias{MessageID: "al-1", PreviousID: "a-1", UserID: "u-1", Timestamp: ts},
	}
	for _, m := range msgs {
		if err := c.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
	if st := c.Stats(); st.Sent != 0 || st.Pending != int64(len(msgs)) {
		t.Fatalf("before Close: %+v, want nothing sent yet", st)
	}
	closeClient(t, c)
	st := c.Stats()
	if st.Enqueued != 5 || st.Sent != 5 || st.Accepted != 5 || st.Rejected != 0 || st.Pending != 0 || st.Batches != 1 || st.DroppedTotal() != 0 {
		t.Fatalf("after Close: %+v, want 5 sent and accepted in one batch", st)
	}

	if res := s.RunOnce(); res.Read != 5 {
		t.Fatalf("pipeline %+v, want 5 read", res)
	}
	want := map[string]row{
		"t-1": {Type: "track", Event: "appointment_booked", UserID: "u-1", AnonymousID: "a-1", RegionCode: "510104017001", ServiceID: 12,
			SessionID: "s-1", App: "市民云-服务端", OS: "Linux", Device: "server"},
		"p-1": {Type: "page", Event: "办事指南", AnonymousID: "a-2", RegionCode: "510105001001", ServiceID: 7, App: "市民云-服务端", Device: "server"},
		"s-1": {Type: "screen", Event: "实时公交", UserID: "u-3", RegionCode: "510104017001", ServiceID: 3, App: "市民云", Device: "ios"},
		"i-1": {Type: "identify", Event: "identify", UserID: "u-1", AnonymousID: "a-1", App: "市民云-服务端", Device: "server"},
	}
	for id, w := range want {
		got, ok := s.row(id)
		if !ok {
			t.Errorf("%s: no row in dwd_events", id)
			continue
		}
		w.Source, w.EventTime, w.Properties = "citypulse-app", ts.Unix(), got.Properties
		if got != w {
			t.Errorf("%s stored as\n%+v, want\n%+v", id, got, w)
		}
	}
	if r, _ := s.row("t-1"); !strings.Contains(r.Properties, `"hospital":"华西医院"`) {
		t.Errorf("t-1 properties %s, want the hospital", r.Properties)
	}
	// dwd_events holds activity, not identity links: the alias is checked as the collector
	// wrote it to the events topic, which is what identity stitching downstream reads.
	var alias *event.Event
	for _, e := range s.events() {
		if e.MessageID == "al-1" {
			alias = &e
		}
	}
	if alias == nil || alias.Type != "alias" || alias.PreviousID != "a-1" || alias.UserID != "u-1" || alias.Timestamp.Sub(ts).Abs() > time.Second {
		t.Errorf("alias in the events topic: %+v, want previousId a-1, userId u-1 at %s", alias, ts)
	}
}

// TestRejectionsReported: an event the collector rejects in its 200 answer reaches the
// rejection handler with its message, and is counted; the rest of the batch lands.
func TestRejectionsReported(t *testing.T) {
	s := newStack(t, nil)
	var (
		mu   sync.Mutex
		rejs []analytics.Rejection
	)
	c, err := analytics.New(writeKey, s.URL, analytics.WithFlushInterval(time.Hour), analytics.WithLogger(quietLog),
		analytics.WithRejectionHandler(func(r analytics.Rejection) { mu.Lock(); rejs = append(rejs, r); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	bad := analytics.Track{MessageID: "bad-1", AnonymousID: "a-1", Event: "service_open", Context: &analytics.Context{RegionCode: "12345"}}
	for _, m := range []analytics.Message{
		analytics.Track{MessageID: "ok-1", AnonymousID: "a-1", Event: "service_open", Context: &analytics.Context{RegionCode: "510104017001"}},
		bad,
	} {
		if err := c.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	closeClient(t, c)
	if st := c.Stats(); st.Sent != 2 || st.Accepted != 1 || st.Rejected != 1 {
		t.Fatalf("stats %+v, want 2 sent, 1 accepted, 1 rejected", st)
	}
	if len(rejs) != 1 {
		t.Fatalf("rejections %+v, want one", rejs)
	}
	r := rejs[0]
	m, _ := r.Message.(analytics.Track)
	if r.Index != 1 || r.MessageID != "bad-1" || r.Field != "context.region_code" || r.Code != "invalid" || r.Reason == "" || m.MessageID != "bad-1" {
		t.Fatalf("rejection %+v, want bad-1's context.region_code with its message", r)
	}
	s.RunOnce()
	if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != 1 {
		t.Fatalf("dwd_events has %d rows, want only ok-1", n)
	}
}

// TestBatchesStayUnderLimits: with the collector's body limit lowered and the SDK told so,
// messages up to MaxEventBytes are cut into batches the collector takes; a larger one is
// refused at Enqueue.
func TestBatchesStayUnderLimits(t *testing.T) {
	const limit = 64 << 10
	s := newStack(t, func(c *collector.Config) { c.MaxBodyBytes = limit })
	c, err := analytics.New(writeKey, s.URL, analytics.WithMaxBatchBytes(limit), analytics.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	filler := func(n int) analytics.Properties { return analytics.Properties{"note": strings.Repeat("x", n)} }
	sizes := []int{100, 3000, 20000, 30000, maxNote(t), 500, 31000, 10, 16000}
	for i, n := range sizes {
		m := analytics.Track{MessageID: fmt.Sprintf("m-%d", i), AnonymousID: "a-1", Event: "upload", Properties: filler(n)}
		if err := c.Enqueue(m); err != nil {
			t.Fatalf("message %d of %d bytes: %v", i, n, err)
		}
	}
	err = c.Enqueue(analytics.Track{AnonymousID: "a-1", Event: "upload", Properties: filler(analytics.MaxEventBytes)})
	if !errors.Is(err, analytics.ErrTooLarge) {
		t.Fatalf("oversized message: %v, want ErrTooLarge", err)
	}
	closeClient(t, c)
	st := c.Stats()
	if st.Sent != int64(len(sizes)) || st.Accepted != int64(len(sizes)) || st.Dropped[analytics.DropTooLarge] != 1 || st.DroppedTotal() != 1 || st.Batches < 3 {
		t.Fatalf("stats %+v, want all %d accepted in several batches and one too_large", st, len(sizes))
	}
	s.RunOnce()
	if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != uint64(len(sizes)) {
		t.Fatalf("dwd_events has %d rows, want %d", n, len(sizes))
	}
}

// maxNote is the longest "note" that keeps a test track message at MaxEventBytes.
func maxNote(t *testing.T) int {
	t.Helper()
	m := map[string]any{"type": "track", "messageId": "m-4", "anonymousId": "a-1", "event": "upload",
		"timestamp": time.Now().UTC(), "properties": map[string]string{"note": ""}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return analytics.MaxEventBytes - len(b) - 8 // the timestamp's digits vary a little
}
