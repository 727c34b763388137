package apiserver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/apiserver/apitest"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

func TestErrors(t *testing.T) {
	s, _ := newServer(t, true)
	h := s.Handler()
	tests := []struct {
		target string
		status int
		field  string
	}{
		{"/api/v1/overview?region=abc", http.StatusBadRequest, "region"},
		{"/api/v1/overview?region=5101", http.StatusBadRequest, "region"},
		{"/api/v1/overview?region=5101040000001", http.StatusBadRequest, "region"},
		{"/api/v1/overview?region=520100000000", http.StatusNotFound, "region"},
		{"/api/v1/overview?region=510104999000", http.StatusNotFound, "region"},
		{"/api/v1/overview?region=510104017999", http.StatusNotFound, "region"},
		{"/api/v1/overview?days=0", http.StatusBadRequest, "days"},
		{"/api/v1/overview?days=367", http.StatusBadRequest, "days"},
		{"/api/v1/overview?days=week", http.StatusBadRequest, "days"},
		{"/api/v1/overview?region=510104000000&days=-1", http.StatusBadRequest, "days"},
		{"/api/v1/regions?parent=x", http.StatusBadRequest, "parent"},
		{"/api/v1/regions?parent=510104999000", http.StatusNotFound, "parent"},
		{"/api/v1/nothing", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			status, body := call(t, h, tt.target)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			var e struct{ Error httpserve.Error }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not a JSON error: %v: %s", err, body)
			}
			if e.Error.Status != tt.status || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Errorf("error %+v, want status %d on field %q with a message", e.Error, tt.status, tt.field)
			}
		})
	}
}

func TestRegions(t *testing.T) {
	s, _ := newServer(t, true)
	tests := []struct {
		target string
		parent string
		n      int
		first  string
	}{
		{"/api/v1/regions", apitest.City, 20, "510104000000"},
		{"/api/v1/regions?parent=" + apitest.Jinjiang, apitest.Jinjiang, 11, "510104017000"},
		{"/api/v1/regions?parent=" + apitest.Jinguanyi, apitest.Jinguanyi, 6, apitest.Shuijingfang},
		{"/api/v1/regions?parent=" + apitest.Shuijingfang, apitest.Shuijingfang, 0, ""},
	}
	for _, tt := range tests {
		status, body := call(t, s.Handler(), tt.target)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", tt.target, status, body)
		}
		var got apiserver.Regions
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("GET %s: %v", tt.target, err)
		}
		if got.Parent.Code != tt.parent || len(got.Regions) != tt.n || got.Regions == nil {
			t.Errorf("GET %s: parent %s with %d regions, want %s with %d", tt.target, got.Parent.Code, len(got.Regions), tt.parent, tt.n)
		}
		if tt.n > 0 && got.Regions[0].Code != tt.first {
			t.Errorf("GET %s: first region %s, want %s", tt.target, got.Regions[0].Code, tt.first)
		}
	}
}

// TestEmptyWarehouse: with dimensions but no events the city answers zeros over a window ending
// today; without dimensions every region is unknown.
func TestEmptyWarehouse(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, s.Handler(), "/api/v1/overview"); status != http.StatusNotFound || !strings.Contains(string(body), `"field":"region"`) {
		t.Errorf("no dimensions: %d %s, want 404 on region", status, body)
	}
	if _, _, err := warehouse.LoadDimensions(context.Background(), conn, apitest.City); err != nil {
		t.Fatal(err)
	}
	ov := getOverview(t, s.Handler(), "/api/v1/overview?days=5")
	var today time.Time
	if err := conn.QueryRow(context.Background(), "SELECT today()").Scan(&today); err != nil {
		t.Fatal(err)
	}
	if want := today.Format(time.DateOnly); ov.Window.To != want || ov.Today.Date != want {
		t.Errorf("window %+v, today %+v; want both ending %s", ov.Window, ov.Today, want)
	}
	if ov.ActiveUsers != 0 || ov.PageViews != 0 || ov.Events != 0 || len(ov.Trend) != 5 || len(ov.TopServices) != 0 ||
		ov.TopServices == nil || len(ov.Children) != 20 || ov.UpdatedAt != nil {
		t.Errorf("empty warehouse: %+v", ov)
	}
	for _, d := range ov.Trend {
		if d.ActiveUsers != 0 || d.PageViews != 0 {
			t.Errorf("trend day %+v not zero", d)
		}
	}
}

func TestProbesAndMetrics(t *testing.T) {
	cfg, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, target := range []string{"/healthz", "/readyz", "/api/v1/overview?region=x"} {
		call(t, h, target)
	}
	if status, _ := call(t, h, "/readyz"); status != http.StatusOK {
		t.Errorf("readyz %d, want 200", status)
	}
	status, body := call(t, h, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("metrics %d", status)
	}
	for _, want := range []string{
		`citypulse_api_requests_total{route="GET /healthz",status="200"} 1`,
		`citypulse_api_requests_total{route="GET /readyz",status="200"} 2`,
		`citypulse_api_requests_total{route="GET /api/v1/overview",status="400"} 1`,
		`citypulse_api_request_duration_seconds_count{route="GET /api/v1/overview",status="400"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A connection that no longer reaches ClickHouse makes the server unready, not dead.
	closed, err := warehouse.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	down, err := apiserver.New(closed, apiserver.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, down.Handler(), "/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("readyz on a closed connection: %d %s, want 503", status, body)
	}
	if status, _ := call(t, down.Handler(), "/healthz"); status != http.StatusOK {
		t.Errorf("healthz on a closed connection: %d, want 200", status)
	}
	if status, _ := call(t, down.Handler(), "/api/v1/overview"); status != http.StatusInternalServerError {
		t.Errorf("overview on a closed connection: %d, want 500", status)
	}
}

// TestHandleExtra: extra handlers mount beside the API and are counted; a conflicting pattern is
// an error, not a panic.
func TestHandleExtra(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	s, err := apiserver.New(conn, apiserver.DefaultConfig(), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("GET /healthz", http.NotFoundHandler()); err == nil {
		t.Error("mounting GET /healthz twice: no error")
	}
	if status, _ := call(t, s.Handler(), "/dashboard"); status != http.StatusTeapot {
		t.Errorf("/dashboard: %d, want the extra handler's 418", status)
	}
	if status, _ := call(t, s.Handler(), "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", status)
	}
	_, body := call(t, s.Handler(), "/metrics")
	if !strings.Contains(string(body), `citypulse_api_requests_total{route="/",status="418"} 1`) {
		t.Errorf("extra handler not counted:\n%s", body)
	}
}
