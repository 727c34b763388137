package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/testenv"
)

// bad is one ods_bad_events fixture row.
type bad struct {
	day                                   string
	source, key, event, code, rule, field string
	reason                                string
}

// badFixture: 2025-03-02 lies before the window the tests ask for; r1 is stored twice (a
// re-read of the DLQ) and counts once.
var badFixture = []bad{
	{"2025-03-02", "citypulse-app", "p0", "service_open", "plan", "required", "properties.service_id", "properties.service_id is required"},
	{"2025-03-03", "citypulse-app", "p1", "service_open", "plan", "required", "properties.service_id", "properties.service_id is required"},
	{"2025-03-03", "citypulse-app", "p2", "service_open", "plan", "required", "properties.service_id", "properties.service_id is required"},
	{"2025-03-05", "citypulse-app", "p3", "service_open", "plan", "required", "properties.service_id", "service_id missing"},
	{"2025-03-04", "citypulse-app", "p4", "service_open", "plan", "enum", "properties.channel", "channel must be one of app, h5"},
	{"2025-03-04", "citypulse-app", "r1", "实时公交", "invalid", "", "context.region_code", "not 12 digits"},
	{"2025-03-04", "citypulse-app", "r1", "实时公交", "invalid", "", "context.region_code", "not 12 digits"},
	{"2025-03-04", "citypulse-app", "r2", "实时公交", "invalid", "", "context.region_code", "not 12 digits"},
	{"2025-03-05", "h5", "u1", "mystery", "plan", "unknown_event", "", "event mystery is not in the tracking plan"},
	{"2025-03-05", "h5", "u2", "mystery", "plan", "unknown_event", "", "event mystery is not in the tracking plan"},
	{"2025-03-04", "", "sha256:00", "", "undecodable", "", "", "DLQ record is not a readable dead letter"},
	// A nested plan's violations of one field in different array elements are one group.
	{"2025-03-05", "citypulse-app", "n1", "fee_payment", "plan", "max", "properties.cart.items[0].price", "items[0].price: 100001 is more than the maximum 100000"},
	{"2025-03-05", "citypulse-app", "n2", "fee_payment", "plan", "max", "properties.cart.items[12].price", "items[12].price: 100001 is more than the maximum 100000"},
}

// newBadServer is a server on a fresh migrated database, and a connection to that database.
func newBadServer(t *testing.T) (*apiserver.Server, driver.Conn) {
	t.Helper()
	_, conn := testenv.Warehouse(t)
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), nil)), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, conn
}

// seedBad inserts rows the way the bad-events pipeline does (explicit columns, one batch).
func seedBad(t *testing.T, conn driver.Conn, rows []bad) {
	t.Helper()
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO ods_bad_events (event_date, received_at, source, message_id, dedupe_key, event, code, rule, field, reason, batch_index, raw, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		day, err := time.Parse(time.DateOnly, r.day)
		if err != nil {
			t.Fatal(err)
		}
		loaded := time.Date(2025, 3, 6, 0, 0, i, 0, time.UTC)
		if err := b.Append(day, day.Add(10*time.Hour), r.source, r.key, r.key, r.event, r.code, r.rule, r.field, r.reason, uint32(0), `{"raw":true}`, loaded); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

func getViolations(t *testing.T, h http.Handler, target string) apiserver.Violations {
	t.Helper()
	status, body := call(t, h, target)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, status, body)
	}
	var v apiserver.Violations
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", target, err, body)
	}
	return v
}

type vday = apiserver.ViolationDay

// The expected answers are counted by hand from badFixture.
func TestViolations(t *testing.T) {
	s, conn := newBadServer(t)
	h := s.Handler()
	seedBad(t, conn, badFixture)

	required := apiserver.Violation{Event: "service_open", Rule: "required", Field: "properties.service_id", Code: "plan", Count: 3,
		Days:          []vday{{Date: "2025-03-03", Count: 2}, {Date: "2025-03-05", Count: 1}},
		SampleReasons: []string{"properties.service_id is required", "service_id missing"}}
	mystery := apiserver.Violation{Event: "mystery", Rule: "unknown_event", Code: "plan", Count: 2,
		Days: []vday{{Date: "2025-03-05", Count: 2}}, SampleReasons: []string{"event mystery is not in the tracking plan"}}
	region := apiserver.Violation{Event: "实时公交", Field: "context.region_code", Code: "invalid", Count: 2,
		Days: []vday{{Date: "2025-03-04", Count: 2}}, SampleReasons: []string{"not 12 digits"}}
	undecodable := apiserver.Violation{Code: "undecodable", Count: 1,
		Days: []vday{{Date: "2025-03-04", Count: 1}}, SampleReasons: []string{"DLQ record is not a readable dead letter"}}
	nested := apiserver.Violation{Event: "fee_payment", Rule: "max", Field: "properties.cart.items[].price", Code: "plan", Count: 2,
		Days: []vday{{Date: "2025-03-05", Count: 2}}, SampleReasons: []string{"items[0].price: 100001 is more than the maximum 100000", "items[12].price: 100001 is more than the maximum 100000"}}
	enum := apiserver.Violation{Event: "service_open", Rule: "enum", Field: "properties.channel", Code: "plan", Count: 1,
		Days: []vday{{Date: "2025-03-04", Count: 1}}, SampleReasons: []string{"channel must be one of app, h5"}}

	tests := []struct {
		name   string
		target string
		window apiserver.Window
		total  uint64
		days   []vday
		want   []apiserver.Violation
	}{
		{
			name:   "every app",
			target: "/api/v1/tracking/violations?from=2025-03-03&to=2025-03-05",
			window: apiserver.Window{From: "2025-03-03", To: "2025-03-05", Days: 3},
			total:  11,
			days:   []vday{{Date: "2025-03-03", Count: 2}, {Date: "2025-03-04", Count: 4}, {Date: "2025-03-05", Count: 5}},
			// count descending, then event: "" < "fee_payment" < "mystery" < "service_open" < "实时公交" (bytes)
			want: []apiserver.Violation{required, nested, mystery, region, undecodable, enum},
		},
		{
			name:   "one app",
			target: "/api/v1/tracking/violations?from=2025-03-03&to=2025-03-05&source=h5",
			window: apiserver.Window{From: "2025-03-03", To: "2025-03-05", Days: 3},
			total:  2,
			days:   []vday{{Date: "2025-03-03"}, {Date: "2025-03-04"}, {Date: "2025-03-05", Count: 2}},
			want:   []apiserver.Violation{mystery},
		},
		{
			name:   "default window ending on to",
			target: "/api/v1/tracking/violations?to=2025-03-03",
			window: apiserver.Window{From: "2025-02-25", To: "2025-03-03", Days: 7},
			total:  3,
			days: []vday{{Date: "2025-02-25"}, {Date: "2025-02-26"}, {Date: "2025-02-27"}, {Date: "2025-02-28"}, {Date: "2025-03-01"},
				{Date: "2025-03-02", Count: 1}, {Date: "2025-03-03", Count: 2}},
			want: []apiserver.Violation{{Event: "service_open", Rule: "required", Field: "properties.service_id", Code: "plan", Count: 3,
				Days:          []vday{{Date: "2025-03-02", Count: 1}, {Date: "2025-03-03", Count: 2}},
				SampleReasons: []string{"properties.service_id is required"}}},
		},
		{
			name:   "an app without bad events",
			target: "/api/v1/tracking/violations?from=2025-03-05&to=2025-03-05&source=nobody",
			window: apiserver.Window{From: "2025-03-05", To: "2025-03-05", Days: 1},
			days:   []vday{{Date: "2025-03-05"}},
			want:   []apiserver.Violation{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := getViolations(t, h, tt.target)
			if v.Window != tt.window || v.Total != tt.total || v.Groups != uint64(len(tt.want)) || v.Truncated {
				t.Errorf("window %+v total %d groups %d truncated %v; want %+v, %d, %d, false", v.Window, v.Total, v.Groups, v.Truncated, tt.window, tt.total, len(tt.want))
			}
			if !reflect.DeepEqual(v.Days, tt.days) {
				t.Errorf("days %+v, want %+v", v.Days, tt.days)
			}
			for i := range v.Violations {
				sort.Strings(v.Violations[i].SampleReasons) // topK orders ties as it likes
			}
			if !reflect.DeepEqual(v.Violations, tt.want) {
				t.Errorf("violations\n %+v\nwant\n %+v", v.Violations, tt.want)
			}
		})
	}

	// Without dates the window is the last DefaultViolationDays days up to the warehouse's today.
	v := getViolations(t, h, "/api/v1/tracking/violations")
	if v.Window.Days != apiserver.DefaultViolationDays || len(v.Days) != apiserver.DefaultViolationDays || v.Total != 0 {
		t.Errorf("default window %+v with %d days and total %d, want %d empty days", v.Window, len(v.Days), v.Total, apiserver.DefaultViolationDays)
	}
}

func TestViolationsErrors(t *testing.T) {
	s, _ := newBadServer(t)
	h := s.Handler()
	tests := []struct {
		query string
		field string
	}{
		{"from=2025-3-3&to=2025-03-05", "from"},
		{"from=2025-03-03&to=2025-02-30", "to"},
		{"from=2025-03-06&to=2025-03-05", "from"},
		{"from=2024-01-01&to=2025-03-05", "from"},
		{"from=2025-03-04", "from"}, // up to today: longer than MaxDays
		{"from=2105-12-31", "from"}, // after today
		{"source=%FF", "source"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, body := call(t, h, "/api/v1/tracking/violations?"+tt.query)
			var e struct{ Error httpserve.Error }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if status != http.StatusBadRequest || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Fatalf("answer %d %s, want 400 naming %s", status, body, tt.field)
			}
		})
	}
}

// More groups than an answer lists: the most frequent come first and the answer says it is cut.
func TestViolationsTruncated(t *testing.T) {
	s, conn := newBadServer(t)
	var rows []bad
	for i := 0; i <= apiserver.MaxViolationGroups; i++ {
		rows = append(rows, bad{"2025-03-05", "app", fmt.Sprintf("m%d", i), fmt.Sprintf("e%03d", i), "plan", "unknown_event", "", "unknown"})
	}
	rows = append(rows, bad{"2025-03-05", "app", "extra", "e200", "plan", "unknown_event", "", "unknown"})
	seedBad(t, conn, rows)
	v := getViolations(t, s.Handler(), "/api/v1/tracking/violations?from=2025-03-05&to=2025-03-05")
	if !v.Truncated || v.Groups != apiserver.MaxViolationGroups+1 || len(v.Violations) != apiserver.MaxViolationGroups || v.Total != uint64(len(rows)) {
		t.Fatalf("truncated %v, groups %d, listed %d, total %d", v.Truncated, v.Groups, len(v.Violations), v.Total)
	}
	if first := v.Violations[0]; first.Event != "e200" || first.Count != 2 || len(first.Days) != 1 || first.Days[0].Count != 2 {
		t.Fatalf("first group %+v, want e200 twice", first)
	}
	if last := v.Violations[len(v.Violations)-1]; last.Event != "e198" || len(last.Days) != 1 {
		t.Fatalf("last group %+v, want e198 (e199 is cut)", last)
	}
}
