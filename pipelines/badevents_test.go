package pipelines_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/deadletters"
	"github.com/citypulse/citypulse/warehouse"
)

// badRow is what the test reads back from ods_bad_events.
type badRow struct {
	source, messageID, event, code, rule, field, reason, raw string
}

// TestBadEventsToWarehouse follows every kind of dead letter into ods_bad_events: rejected by the
// collector (with and without a message id, one sent twice), produced by the events pipeline in
// the same turn, and a DLQ record that is no dead letter at all. Re-reading the whole DLQ with a
// new consumer group stores nothing twice.
func TestBadEventsToWarehouse(t *testing.T) {
	s := newStack(t)
	ts := time.Now().Add(-time.Hour).Truncate(time.Second)
	bad := ev("bad-1", "track", "anon-1", "510104", 3, ts) // region_code is not 12 digits
	longID := ev(strings.Repeat("x", 101), "page", "anon-2", "510104017001", 3, ts)
	if a := s.post(ev("ok-1", "page", "anon-1", "510104017001", 3, ts), bad, longID); a.Accepted != 1 || len(a.Rejected) != 2 {
		t.Fatalf("collector answer %+v, want 1 accepted, 2 rejected", a)
	}
	if a := s.post(bad); len(a.Rejected) != 1 { // a client retrying the same bad event
		t.Fatalf("resend answer %+v", a)
	}
	produce(t, s.Bus,
		&kgo.Record{Topic: bus.DLQTopic, Value: []byte("not a dead letter \xff")},
		&kgo.Record{Topic: bus.EventsTopic, Value: []byte(`{"type":"track","event":"no_id","source":"citypulse-app"}`)},
	)

	res := s.RunOnce()
	if res.Written != 1 || res.DeadLetters != 1 {
		t.Fatalf("events run %+v, want 1 written and 1 dead letter (the event without messageId)", res)
	}
	// 3 from the collector, 1 not a dead letter, 1 from the events pipeline in the same turn.
	if b := res.BadEvents; b.Read != 5 || b.Written != 5 || b.Undecodable != 1 || len(b.Ranges) == 0 {
		t.Fatalf("bad-events run %+v, want 5 read and written, 1 undecodable", b)
	}
	if n := s.Count("SELECT count() FROM ods_bad_events FINAL"); n != 4 {
		t.Fatalf("ods_bad_events FINAL has %d rows, want 4 (bad-1 twice counts once)", n)
	}
	got := readBad(t, s)
	want := map[string]badRow{
		"invalid":                   {source: "citypulse-app", messageID: "bad-1", event: "service_open", code: "invalid", field: "context.region_code"},
		"too_long":                  {source: "citypulse-app", event: "实时公交", code: "too_long", field: "messageId"},
		"pipeline":                  {source: "citypulse-app", event: "no_id", code: "pipeline", field: "messageId"},
		deadletters.CodeUndecodable: {code: deadletters.CodeUndecodable, raw: "not a dead letter \xff"},
	}
	if len(got) != len(want) {
		t.Fatalf("ods_bad_events rows by code: %+v", got)
	}
	for code, w := range want {
		g, ok := got[code]
		if !ok {
			t.Errorf("no %s row", code)
			continue
		}
		if g.reason == "" {
			t.Errorf("%s row has no reason", code)
		}
		if w.raw == "" && !strings.HasPrefix(g.raw, "{") {
			t.Errorf("%s row raw = %q, want the event as received", code, g.raw)
		}
		g.reason = ""
		if w.raw == "" {
			g.raw = ""
		}
		if g != w {
			t.Errorf("%s row = %+v, want %+v", code, g, w)
		}
	}
	if g := got["invalid"]; !strings.Contains(s.raw(t, "invalid"), `"messageId":"bad-1"`) {
		t.Errorf("invalid row raw does not hold the event: %+v", g)
	}

	// event_date is received_at's date in the city's zone; received_at is the collector's clock.
	var day, at time.Time
	if err := s.Conn.QueryRow(context.Background(), "SELECT event_date, received_at FROM ods_bad_events FINAL WHERE message_id = 'bad-1'").Scan(&day, &at); err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	if at.Before(ts) || at.After(time.Now().Add(time.Second)) || day.Format(time.DateOnly) != at.In(sh).Format(time.DateOnly) {
		t.Errorf("bad-1 received_at %s, event_date %s; want a time since %s and its Shanghai date", at, day.Format(time.DateOnly), ts)
	}

	// Nothing left to read; then a second runner with a fresh DLQ group re-reads all of it.
	if res := s.RunOnce(); !res.Idle() {
		t.Fatalf("second turn %+v, want idle", res)
	}
	cfg := pipelines.DefaultConfig()
	cfg.DLQGroup = "reread"
	res2 := s.RunOnceWith(cfg)
	if len(res2.Ranges) != 0 || res2.BadEvents.Read != 5 {
		t.Fatalf("re-read turn %+v, want no events and the 5 dead letters again", res2)
	}
	if n := s.Count("SELECT count() FROM ods_bad_events FINAL"); n != 4 {
		t.Fatalf("after a re-read ods_bad_events FINAL has %d rows, want still 4", n)
	}
}

func readBad(t *testing.T, s *stack) map[string]badRow {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(),
		"SELECT source, message_id, event, code, rule, field, reason, raw FROM ods_bad_events FINAL ORDER BY code")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]badRow{}
	for rows.Next() {
		var r badRow
		if err := rows.Scan(&r.source, &r.messageID, &r.event, &r.code, &r.rule, &r.field, &r.reason, &r.raw); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[r.code]; dup {
			t.Fatalf("two %s rows", r.code)
		}
		out[r.code] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *stack) raw(t *testing.T, code string) string {
	t.Helper()
	var raw string
	if err := s.Conn.QueryRow(context.Background(), "SELECT any(raw) FROM ods_bad_events FINAL WHERE code = ?", code).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// produce writes recs, their topics named as the platform names them (bus.EventsTopic,
// bus.FeedsTopic(…)), to the stack's copies of those topics (under cfg.TopicPrefix).
func produce(t *testing.T, cfg bus.Config, recs ...*kgo.Record) {
	t.Helper()
	for _, r := range recs {
		r.Topic = cfg.TopicPrefix + r.Topic
	}
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// A bad-events run that cannot write commits nothing and does not hold back the events pipeline;
// the next turn after the table is back stores every dead letter.
func TestBadEventsFailureIsolated(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	if err := s.Conn.Exec(ctx, "DROP TABLE ods_bad_events"); err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Hour).Truncate(time.Second)
	s.post(ev("ok-1", "page", "anon-1", "510104017001", 3, ts), ev("bad-1", "track", "anon-1", "1", 3, ts))

	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	res, err := s.Runner.RunOnce(tctx)
	if err == nil || !strings.Contains(err.Error(), pipelines.PipelineBadEvents) {
		t.Fatalf("turn without ods_bad_events: err %v, want the bad-events pipeline's failure", err)
	}
	if res.Written != 1 || len(res.Ranges) == 0 || res.BadEvents.Written != 0 {
		t.Fatalf("turn without ods_bad_events: %+v, want the event written anyway", res)
	}

	ms, err := warehouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version != 2 {
			continue
		}
		for _, stmt := range m.Statements(s.Warehouse.Database) {
			if err := s.Conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	res = s.RunOnce()
	if len(res.Ranges) != 0 || res.BadEvents.Read != 1 || res.BadEvents.Written != 1 {
		t.Fatalf("turn after the table is back: %+v, want only the dead letter", res)
	}
	if n := s.Count("SELECT count() FROM ods_bad_events FINAL WHERE message_id = 'bad-1'"); n != 1 {
		t.Fatalf("bad-1 stored %d times, want once", n)
	}
}
