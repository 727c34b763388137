package pipelines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// stack is the real data path (internal/testenv/stacktest) with this package's helpers.
type stack struct {
	*stacktest.Stack
	t *testing.T
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return &stack{Stack: stacktest.Start(t, stacktest.Options{}), t: t}
}

type answer struct {
	Accepted int               `json:"accepted"`
	Rejected []event.Rejection `json:"rejected"`
}

func (s *stack) post(events ...map[string]any) answer {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"batch": events})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth(stacktest.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("collector answered %d (%v)", resp.StatusCode, err)
	}
	return a
}

func ev(id, typ, user, region string, service int, ts time.Time) map[string]any {
	e := map[string]any{"messageId": id, "type": typ, "anonymousId": user, "timestamp": ts.Format(time.RFC3339),
		"context":    map[string]any{"region_code": region, "session_id": "s-" + user, "app": map[string]any{"name": "市民云"}},
		"properties": map[string]any{"service_id": service}}
	switch typ {
	case "track":
		e["event"] = "service_open"
	default:
		e["name"] = "实时公交"
	}
	return e
}

// TestCollectorToWarehouse follows events from the collector's HTTP API through the broker
// (restarted in between) and the Beam pipeline into dwd_events and the daily aggregate.
func TestCollectorToWarehouse(t *testing.T) {
	s := newStack(t)
	ts := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	a := s.post(
		ev("m1", "page", "anon-1", "510104017001", 12, ts),
		ev("m2", "track", "anon-2", "510105001001", 7, ts.Add(time.Minute)),
		ev("m3", "screen", "anon-1", "510104017001", 12, ts.Add(2*time.Minute)),
		ev("bad-1", "page", "anon-3", "12345", 1, ts), // region_code is not 12 digits
	)
	if a.Accepted != 3 || len(a.Rejected) != 1 || a.Rejected[0].Field != "context.region_code" {
		t.Fatalf("collector answer %+v, want 3 accepted and context.region_code rejected", a)
	}
	if a := s.post(ev("m1", "page", "anon-1", "510104017001", 12, ts)); a.Accepted != 1 {
		t.Fatalf("resend of m1: %+v", a)
	}

	// Everything acknowledged survives a broker restart.
	s.RestartBroker()

	res := s.RunOnce()
	if res.Read != 4 || res.Written != 3 || res.Duplicates != 1 || res.DeadLetters != 0 || res.Days < 1 {
		t.Fatalf("first run %+v, want 4 read, 3 written, 1 duplicate", res)
	}
	if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != 3 {
		t.Fatalf("dwd_events has %d rows, want 3", n)
	}
	if n := s.Count("SELECT count() FROM dwd_events WHERE message_id = 'm1'"); n != 1 {
		t.Fatalf("m1 stored %d times, want once", n)
	}
	var region, evName, app string
	var service uint32
	if err := s.Conn.QueryRow(context.Background(), "SELECT region_code, service_id, event, app FROM dwd_events WHERE message_id = 'm2'").Scan(&region, &service, &evName, &app); err != nil {
		t.Fatal(err)
	}
	if region != "510105001001" || service != 7 || evName != "service_open" || app != "市民云" {
		t.Fatalf("m2 stored as %s %d %s %s", region, service, evName, app)
	}
	checkDaily(t, s)

	// The rejected event is in the dead-letter topic with its reason.
	dl := stacktest.DecodeTopic[event.DeadLetter](s.Stack, bus.DLQTopic)
	if len(dl) != 1 || dl[0].Field != "context.region_code" || dl[0].Reason == "" || !strings.Contains(string(dl[0].Raw), "bad-1") {
		t.Fatalf("dead letters %+v, want bad-1 with its reason", dl)
	}

	// Progress is committed: a second run reads nothing.
	if res := s.RunOnce(); len(res.Ranges) != 0 {
		t.Fatalf("second run read %+v, want nothing", res)
	}
	// A duplicate arriving in a later run is stored once and does not inflate the aggregate.
	s.post(ev("m3", "screen", "anon-1", "510104017001", 12, ts.Add(2*time.Minute)))
	if res := s.RunOnce(); res.Read != 1 {
		t.Fatalf("third run %+v, want 1 read", res)
	}
	if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != 3 {
		t.Fatalf("after a late duplicate dwd_events FINAL has %d rows, want 3", n)
	}
	checkDaily(t, s)
}

func checkDaily(t *testing.T, s *stack) {
	t.Helper()
	var pv, events, users uint64
	if err := s.Conn.QueryRow(context.Background(),
		"SELECT sum(page_views), sum(events), uniqCombinedMerge(users) FROM dws_region_service_daily FINAL WHERE region_code LIKE '5101%'").Scan(&pv, &events, &users); err != nil {
		t.Fatal(err)
	}
	if pv != 2 || events != 3 || users != 2 {
		t.Fatalf("daily aggregate: %d page views, %d events, %d users; want 2, 3, 2", pv, events, users)
	}
	if n := s.Count("SELECT toUInt64(uniqCombinedMerge(users)) FROM dws_region_service_daily FINAL WHERE region_code LIKE '510104%'"); n != 1 {
		t.Fatalf("district 510104 has %d users, want 1", n)
	}
}
