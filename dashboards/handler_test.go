package dashboards

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func newHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := New(Config{Refresh: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func get(t *testing.T, h http.Handler, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Result()
}

func TestRoutes(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		target      string
		status      int
		contentType string // prefix
		location    string
	}{
		{"/", http.StatusFound, "", DashboardPath},
		{"/dashboard", http.StatusOK, "text/html", ""},
		{"/dashboard?region=510104000000", http.StatusOK, "text/html", ""},
		{"/dashboard?region=5101", http.StatusBadRequest, "text/plain", ""},
		{"/dashboard?region=51010400000x", http.StatusBadRequest, "text/plain", ""},
		{"/assets/echarts.min.js", http.StatusOK, "text/javascript", ""},
		{"/assets/live.js", http.StatusOK, "text/javascript", ""},
		{"/assets/screen.css", http.StatusOK, "text/css", ""},
		{"/assets/nothing.js", http.StatusNotFound, "", ""},
		{"/elsewhere", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			resp := get(t, h, tt.target)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want prefix %q", ct, tt.contentType)
			}
			if loc := resp.Header.Get("Location"); loc != tt.location {
				t.Errorf("Location %q, want %q", loc, tt.location)
			}
		})
	}
}

// TestNoOutsideURLs: the page and our assets load nothing from another host (no CDN).
func TestNoOutsideURLs(t *testing.T) {
	h := newHandler(t)
	urlRE := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for _, target := range []string{"/dashboard", "/assets/live.js", "/assets/screen.css"} {
		body, _ := io.ReadAll(get(t, h, target).Body)
		if m := urlRE.Find(body); m != nil {
			t.Errorf("%s references %q; every asset must come from %s", target, m, AssetsPath)
		}
	}
}

func TestPageCharts(t *testing.T) {
	body, _ := io.ReadAll(get(t, newHandler(t), "/dashboard").Body)
	page := string(body)
	want := []string{
		`<script src="/assets/echarts.min.js"></script>`,
		`<script src="/assets/live.js"></script>`,
		`goecharts_children.on("click", 'series.bar', function (p)`,
		`data-refresh-ms="5000"`,
		`id="tile-active-users"`, `id="tile-page-views"`, `id="tile-today-users"`, `id="tile-today-views"`,
		`id="breadcrumb"`,
	}
	for _, id := range ChartIDs {
		want = append(want, `id="`+id+`"`, "let goecharts_"+id+" = echarts.init(")
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %s", w)
		}
	}
	if strings.Contains(page, "go-echarts.github.io") || strings.Contains(page, "cdn") {
		t.Errorf("page mentions a CDN")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		refresh time.Duration
		ok      bool
	}{
		{0, true}, {time.Second, true}, {5 * time.Second, true}, {500 * time.Millisecond, false}, {-time.Second, false},
	}
	for _, tt := range tests {
		_, err := New(Config{Refresh: tt.refresh}, nil)
		if (err == nil) != tt.ok {
			t.Errorf("refresh %s: err %v, want ok=%v", tt.refresh, err, tt.ok)
		}
	}
}

func FuzzDashboardRegion(f *testing.F) {
	for _, s := range []string{"", "510100000000", "510104017001", "5101", "abc", "51010400000０", "510104000000\x00"} {
		f.Add(s)
	}
	h, err := New(DefaultConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, region string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dashboard?region="+url.QueryEscape(region), nil))
		ok := checkRegion(region) == ""
		switch {
		case ok && rec.Code != http.StatusOK, !ok && rec.Code != http.StatusBadRequest:
			t.Fatalf("region %q: status %d (well-formed %v)", region, rec.Code, ok)
		}
	})
}
