package apiserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/apiserver/apitest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
	"github.com/citypulse/citypulse/warehouse/dimdata"
)

func newServer(t *testing.T, seed bool) (*apiserver.Server, *prometheus.Registry) {
	t.Helper()
	_, conn := testenv.Warehouse(t)
	if seed {
		apitest.Seed(t, conn)
	}
	reg := prometheus.NewRegistry()
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), nil)), reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, reg
}

func call(t *testing.T, h http.Handler, target string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, body
}

func getOverview(t *testing.T, h http.Handler, target string) apiserver.Overview {
	t.Helper()
	status, body := call(t, h, target)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, status, body)
	}
	var ov apiserver.Overview
	if err := json.Unmarshal(body, &ov); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", target, err, body)
	}
	return ov
}

type svc struct {
	id         uint32
	views, usr uint64
}

type kid struct {
	code       string
	users, pvs uint64
}

// The expected numbers are counted by hand from apitest.Events (m12 arrives twice, counts once;
// "track" events are events and make a user active but are no page views).
func TestOverview(t *testing.T) {
	s, _ := newServer(t, true)
	h := s.Handler()
	tests := []struct {
		name       string
		target     string
		region     apiserver.Region
		path       []string
		from, to   string
		users, pvs uint64
		events     uint64
		today      apiserver.DayStat
		trend      []apiserver.DayStat
		top        []svc
		nChildren  int
		busyKids   []kid // the children with data, busiest first; the rest must be zero
	}{
		{
			name: "city", target: "/api/v1/overview?days=7",
			region: apiserver.Region{Code: apitest.City, Name: "成都市", Level: "city"},
			path:   []string{apitest.City},
			from:   "2025-02-27", to: "2025-03-05",
			users: 8, pvs: 16, events: 18,
			today: apiserver.DayStat{Date: "2025-03-05", ActiveUsers: 6, PageViews: 7},
			trend: []apiserver.DayStat{{"2025-02-27", 0, 0}, {"2025-02-28", 0, 0}, {"2025-03-01", 4, 4}, {"2025-03-02", 3, 2},
				{"2025-03-03", 0, 0}, {"2025-03-04", 3, 3}, {"2025-03-05", 6, 7}},
			top:       []svc{{1, 8, 5}, {2, 5, 4}, {3, 3, 3}},
			nChildren: 20,
			busyKids:  []kid{{apitest.Jinjiang, 4, 10}, {apitest.Qingyang, 5, 6}},
		},
		{
			name: "district", target: "/api/v1/overview?region=" + apitest.Jinjiang + "&days=7",
			region: apiserver.Region{Code: apitest.Jinjiang, Name: "锦江区", Level: "district"},
			path:   []string{apitest.City, apitest.Jinjiang},
			from:   "2025-02-27", to: "2025-03-05",
			users: 4, pvs: 10, events: 11,
			today: apiserver.DayStat{Date: "2025-03-05", ActiveUsers: 4, PageViews: 5},
			trend: []apiserver.DayStat{{"2025-02-27", 0, 0}, {"2025-02-28", 0, 0}, {"2025-03-01", 3, 3}, {"2025-03-02", 2, 1},
				{"2025-03-03", 0, 0}, {"2025-03-04", 1, 1}, {"2025-03-05", 4, 5}},
			top:       []svc{{1, 6, 3}, {2, 3, 2}, {3, 1, 1}},
			nChildren: 11,
			busyKids:  []kid{{apitest.Jinguanyi, 3, 9}, {apitest.Donghu, 1, 1}},
		},
		{
			name: "street", target: "/api/v1/overview?region=" + apitest.Jinguanyi + "&days=7",
			region: apiserver.Region{Code: apitest.Jinguanyi, Name: "锦官驿街道", Level: "street"},
			path:   []string{apitest.City, apitest.Jinjiang, apitest.Jinguanyi},
			from:   "2025-02-27", to: "2025-03-05",
			users: 3, pvs: 9, events: 9,
			today: apiserver.DayStat{Date: "2025-03-05", ActiveUsers: 3, PageViews: 4},
			trend: []apiserver.DayStat{{"2025-02-27", 0, 0}, {"2025-02-28", 0, 0}, {"2025-03-01", 3, 3}, {"2025-03-02", 1, 1},
				{"2025-03-03", 0, 0}, {"2025-03-04", 1, 1}, {"2025-03-05", 3, 4}},
			top:       []svc{{1, 5, 2}, {2, 3, 2}, {3, 1, 1}},
			nChildren: 6,
			busyKids:  []kid{{apitest.Shuijingfang, 3, 7}, {apitest.Chongdeli, 1, 2}},
		},
		{
			name: "community", target: "/api/v1/overview?region=" + apitest.Shuijingfang + "&days=3",
			region: apiserver.Region{Code: apitest.Shuijingfang, Name: "水井坊社区居委会", Level: "community"},
			path:   []string{apitest.City, apitest.Jinjiang, apitest.Jinguanyi, apitest.Shuijingfang},
			from:   "2025-03-03", to: "2025-03-05",
			users: 3, pvs: 4, events: 4,
			today: apiserver.DayStat{Date: "2025-03-05", ActiveUsers: 3, PageViews: 3},
			trend: []apiserver.DayStat{{"2025-03-03", 0, 0}, {"2025-03-04", 1, 1}, {"2025-03-05", 3, 3}},
			top:   []svc{{1, 3, 2}, {2, 1, 1}},
		},
		{
			name: "other district, one day", target: "/api/v1/overview?region=" + apitest.Qingyang + "&days=1",
			region: apiserver.Region{Code: apitest.Qingyang, Name: "青羊区", Level: "district"},
			path:   []string{apitest.City, apitest.Qingyang},
			from:   "2025-03-05", to: "2025-03-05",
			users: 3, pvs: 2, events: 3,
			today:     apiserver.DayStat{Date: "2025-03-05", ActiveUsers: 3, PageViews: 2},
			trend:     []apiserver.DayStat{{"2025-03-05", 3, 2}},
			top:       []svc{{1, 1, 2}, {3, 1, 1}},
			nChildren: 12,
			busyKids:  []kid{{"510105002000", 2, 2}, {"510105005000", 1, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ov := getOverview(t, h, tt.target)
			if ov.Region != tt.region {
				t.Errorf("region %+v, want %+v", ov.Region, tt.region)
			}
			var path []string
			for _, r := range ov.Path {
				path = append(path, r.Code)
			}
			if !reflect.DeepEqual(path, tt.path) {
				t.Errorf("path %v, want %v", path, tt.path)
			}
			if ov.Window.From != tt.from || ov.Window.To != tt.to || ov.Window.Days != len(tt.trend) {
				t.Errorf("window %+v, want %s … %s (%d days)", ov.Window, tt.from, tt.to, len(tt.trend))
			}
			if ov.ActiveUsers != tt.users || ov.PageViews != tt.pvs || ov.Events != tt.events {
				t.Errorf("users/page views/events %d/%d/%d, want %d/%d/%d", ov.ActiveUsers, ov.PageViews, ov.Events, tt.users, tt.pvs, tt.events)
			}
			if ov.Today != tt.today {
				t.Errorf("today %+v, want %+v", ov.Today, tt.today)
			}
			if !reflect.DeepEqual(ov.Trend, tt.trend) {
				t.Errorf("trend %+v\nwant %+v", ov.Trend, tt.trend)
			}
			var top []svc
			for _, s := range ov.TopServices {
				top = append(top, svc{s.ServiceID, s.PageViews, s.Users})
				if s.Name == "" || s.Category == "" || strings.HasPrefix(s.Name, "#") {
					t.Errorf("service %d not named from dim_service: %+v", s.ServiceID, s)
				}
			}
			if !reflect.DeepEqual(top, tt.top) {
				t.Errorf("top services %v, want %v", top, tt.top)
			}
			checkChildren(t, ov, tt.nChildren, tt.busyKids)
			if ov.UpdatedAt == nil {
				t.Errorf("updated_at is null with data")
			}
			if ov.PreviousSoFar != nil {
				t.Errorf("previous_so_far %+v for a past day; want null", *ov.PreviousSoFar)
			}
		})
	}
}

func checkChildren(t *testing.T, ov apiserver.Overview, n int, busy []kid) {
	t.Helper()
	if len(ov.Children) != n {
		t.Fatalf("%d children, want %d", len(ov.Children), n)
	}
	var sum uint64
	for i, c := range ov.Children {
		sum += c.PageViews
		if !strings.HasPrefix(c.Code, dimdata.Prefix(ov.Region.Code, ov.Region.Level)) || c.Name == "" || c.Level == "" {
			t.Errorf("child %+v of %s: wrong code, or no name or level", c.Region, ov.Region.Code)
		}
		if i < len(busy) {
			if got := (kid{c.Code, c.ActiveUsers, c.PageViews}); got != busy[i] {
				t.Errorf("child %d = %+v, want %+v", i, got, busy[i])
			}
			continue
		}
		if c.ActiveUsers != 0 || c.PageViews != 0 {
			t.Errorf("child %s %s has %d users, %d page views; want zeros", c.Code, c.Name, c.ActiveUsers, c.PageViews)
		}
		if i > len(busy) && ov.Children[i-1].Code > c.Code {
			t.Errorf("children without data not in code order: %s before %s", ov.Children[i-1].Code, c.Code)
		}
	}
	if n > 0 && sum != ov.PageViews {
		t.Errorf("children page views sum to %d, region has %d", sum, ov.PageViews)
	}
}

// TestOverviewDefaultDays: without days the window is Config.TrendDays long, ending on the
// latest day with data.
func TestOverviewDefaultDays(t *testing.T) {
	s, _ := newServer(t, true)
	ov := getOverview(t, s.Handler(), "/api/v1/overview")
	if ov.Window.Days != 14 || len(ov.Trend) != 14 || ov.Window.From != "2025-02-20" || ov.Window.To != "2025-03-05" {
		t.Errorf("window %+v with %d trend points, want 2025-02-20 … 2025-03-05 (14)", ov.Window, len(ov.Trend))
	}
	if ov.PageViews != 16 || ov.ActiveUsers != 8 {
		t.Errorf("page views %d, users %d; want 16, 8", ov.PageViews, ov.ActiveUsers)
	}
}

// TestOverviewPreviousSoFar: when the latest day is the current date (China time), the day
// before counts only up to the same time of day, so that today so far compares with a like
// period; events after that time, and a re-delivered one, do not count.
func TestOverviewPreviousSoFar(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := context.Background()
	if _, _, err := warehouse.LoadDimensions(ctx, conn, apitest.City); err != nil {
		t.Fatal(err)
	}
	china := time.FixedZone("CST", 8*3600)
	now := time.Now()
	local := now.In(china)
	todayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, china)
	yesterdayStart := todayStart.AddDate(0, 0, -1)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	yesterday := today.AddDate(0, 0, -1)
	cut := now.Add(-24 * time.Hour)
	before := cut.Add(-min(time.Hour, cut.Sub(yesterdayStart))) // in [yesterday 00:00, cut]
	ev := func(date, at time.Time, typ, user, id string) apitest.TimedEvent {
		return apitest.TimedEvent{Event: apitest.Event{Region: apitest.Shuijingfang, Service: 1, Type: typ, User: user, MessageID: id}, Date: date, At: at}
	}
	events := []apitest.TimedEvent{
		ev(yesterday, before, "page", "u1", "y1"),
		ev(yesterday, before, "screen", "u2", "y2"),
		ev(yesterday, before, "track", "u3", "y3"), // active, no page view
		ev(today, now, "page", "u1", "t1"),
	}
	late := cut.Add(2 * time.Second)
	if late.Before(todayStart) { // after the cut, still yesterday: must not count
		events = append(events, ev(yesterday, late, "page", "u4", "y4"), ev(yesterday, late, "page", "u1", "y5"))
	}
	for _, part := range [][]apitest.TimedEvent{events, events[:1]} { // y1 twice: counts once
		if err := apitest.InsertTimed(ctx, conn, part); err != nil {
			t.Fatal(err)
		}
	}
	if err := warehouse.RefreshDaily(ctx, conn, []time.Time{yesterday, today}); err != nil {
		t.Fatal(err)
	}
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), slog.New(slog.NewTextHandler(t.Output(), nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ov := getOverview(t, s.Handler(), "/api/v1/overview")
	if ov.Today.Date != today.Format(time.DateOnly) {
		t.Fatalf("today is %s, want %s", ov.Today.Date, today.Format(time.DateOnly))
	}
	want := apiserver.DayStat{Date: yesterday.Format(time.DateOnly), ActiveUsers: 3, PageViews: 2}
	if ov.PreviousSoFar == nil || *ov.PreviousSoFar != want {
		t.Fatalf("previous_so_far %+v, want %+v", ov.PreviousSoFar, want)
	}
	// The whole previous day, in the trend, counts the late events too.
	if prev := ov.Trend[len(ov.Trend)-2]; len(events) > 4 && (prev.ActiveUsers != 4 || prev.PageViews != 4) {
		t.Errorf("trend's previous day %+v, want 4 users and 4 page views", prev)
	}
}
