package dashboards_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/apiserver/apitest"
	"github.com/citypulse/citypulse/dashboards"
	"github.com/citypulse/citypulse/internal/testenv"
)

// ScreenshotDirEnv names the folder the browser test saves its screenshots in (default: the
// test's temporary folder).
const ScreenshotDirEnv = "CITYPULSE_SCREENSHOT_DIR"

// waitLimit bounds each wait in the browser; the page normally takes a few seconds.
const waitLimit = 45 * time.Second

// report is what the page shows, read in the browser.
type report struct {
	Location  string            `json:"location"`
	Title     string            `json:"title"`
	Heading   string            `json:"heading"`
	Crumbs    []string          `json:"crumbs"`
	Loads     int               `json:"loads"`
	Errors    int               `json:"errors"`
	LastError string            `json:"lastError"`
	Banner    string            `json:"banner"`
	Clock     string            `json:"clock"`
	Tiles     map[string]string `json:"tiles"`
	Charts    []chartReport     `json:"charts"`
}

// chartReport: Points holds, per series, how many points are not null.
type chartReport struct {
	ID       string `json:"id"`
	Instance bool   `json:"instance"`
	Points   []int  `json:"points"`
	Finished int    `json:"finished"` // the load count when the chart last finished rendering
}

const reportJS = `(() => {
  const s = (window.citypulse && window.citypulse.state) || {loads: 0, errors: 0, lastError: '', finished: {}};
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : ''; };
  const banner = document.getElementById('error');
  const r = {location: location.href, title: document.title, heading: text('title'), loads: s.loads, errors: s.errors,
    lastError: s.lastError, banner: banner && !banner.hidden ? banner.textContent : '', clock: text('clock'), tiles: {}, charts: [],
    crumbs: Array.from(document.querySelectorAll('#breadcrumb a, #breadcrumb .here')).map((e) => e.textContent)};
  for (const id of ['tile-active-users', 'tile-page-views', 'tile-today-users', 'tile-today-views', 'note-today-users', 'note-today-views']) { r.tiles[id] = text(id); }
  for (const id of %s) {
    const el = document.getElementById(id);
    const inst = el && typeof echarts !== 'undefined' ? echarts.getInstanceByDom(el) : null;
    const c = {id: id, instance: !!inst, points: [], finished: s.finished[id] || 0};
    if (inst) {
      for (const ser of inst.getOption().series || []) {
        c.points.push((ser.data || []).filter((p) => p !== null && p !== undefined &&
          !(typeof p === 'object' && (p.value === null || p.value === undefined))).length);
      }
    }
    r.charts.push(c);
  }
  return r;
})()`

func readPage(ctx context.Context) (report, error) {
	ids, _ := json.Marshal(dashboards.ChartIDs)
	return chromedp.Run(ctx, chromedp.Evaluate[report](fmt.Sprintf(reportJS, ids)))
}

// waitPage reads the page until ok accepts it, and fails the test with the last reading when
// it never does.
func waitPage(t *testing.T, ctx context.Context, what string, ok func(report) bool) report {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	var last report
	var err error
	for time.Now().Before(deadline) {
		last, err = readPage(ctx)
		if err == nil && ok(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("page never showed %s; last reading (err %v): %+v", what, err, last)
	return last
}

// chartsFilled: every chart has an ECharts instance and every series at least one point.
func chartsFilled(r report) bool {
	if r.Loads < 1 || len(r.Charts) != len(dashboards.ChartIDs) {
		return false
	}
	for _, c := range r.Charts {
		if !c.Instance || len(c.Points) == 0 {
			return false
		}
		for _, n := range c.Points {
			if n == 0 {
				return false
			}
		}
	}
	return true
}

// settled: refreshing stopped and every chart finished rendering the last load.
func settled(r report) bool {
	for _, c := range r.Charts {
		if c.Finished != r.Loads {
			return false
		}
	}
	return chartsFilled(r)
}

type recorder struct {
	mu    sync.Mutex
	paths map[string]int
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.paths[r.URL.Path]++
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) count(path string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.paths[path]
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is no PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1920 || b.Dy() != 1080 {
		t.Errorf("screenshot is %dx%d, want 1920x1080", b.Dx(), b.Dy())
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s: %v", ScreenshotDirEnv, err)
	}
	return dir
}

// startStack serves the API and the dashboards on one test server, as `citypulse api` does, over
// a warehouse that seed fills.
func startStack(t *testing.T, refresh time.Duration, seed func(testing.TB, driver.Conn)) (*httptest.Server, *recorder) {
	t.Helper()
	_, conn := testenv.Warehouse(t)
	seed(t, conn)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	api, err := apiserver.New(conn, apiserver.DefaultConfig(), log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pages, err := dashboards.New(dashboards.Config{Refresh: refresh}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Handle("/", pages); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{paths: map[string]int{}}
	srv := httptest.NewServer(rec.wrap(api.Handler()))
	t.Cleanup(srv.Close)
	return srv, rec
}

const clickBarJS = `(() => {
  const el = document.getElementById('children');
  const inst = echarts.getInstanceByDom(el);
  const opt = inst.getOption();
  const i = opt.series[0].data.findIndex((d) => d.code === %q);
  if (i < 0) { return null; }
  const rect = el.getBoundingClientRect();
  const layout = inst.getModel().getSeriesByIndex(0).getData().getItemLayout(i);
  return {x: rect.left + layout.x + layout.width / 2, y: rect.top + layout.y + layout.height / 2};
})()`

// TestDashboard loads the big screen of the city in Chromium against the real API, checks that
// every chart and tile shows the fixture's numbers, saves a screenshot, then clicks the 锦江区
// bar and follows the drill-down.
func TestDashboard(t *testing.T) {
	ctx := testenv.Chromium(t)
	srv, rec := startStack(t, time.Second, apitest.Seed)
	dir := screenshotDir(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("open %s: %v", srv.URL, err)
	}
	r := waitPage(t, ctx, "every chart with data", chartsFilled)
	if !strings.HasSuffix(r.Location, "/dashboard") {
		t.Errorf("/ went to %s, want /dashboard", r.Location)
	}
	// 14-day window of the fixture: 8 users, 16 page views; its latest day 6 users, 7 views,
	// against 3 and 3 the whole day before (a past day: no same-time comparison).
	want := map[string]string{"tile-active-users": "8", "tile-page-views": "16", "tile-today-users": "6", "tile-today-views": "7",
		"note-today-users": "较前日 ▲100.0%", "note-today-views": "较前日 ▲133.3%"}
	for id, v := range want {
		if r.Tiles[id] != v {
			t.Errorf("tile %s shows %q, want %q", id, r.Tiles[id], v)
		}
	}
	// The clock shows the city's time (UTC+8) whatever the browser's zone (UTC here).
	cst := time.FixedZone("CST", 8*3600)
	if at, err := time.ParseInLocation(time.DateTime, r.Clock, cst); err != nil || time.Since(at).Abs() > time.Minute {
		t.Errorf("clock shows %q, want the time in China (now %s)", r.Clock, time.Now().In(cst).Format(time.DateTime))
	}
	if !strings.Contains(r.Title, "成都市") || !strings.Contains(r.Heading, "成都市") {
		t.Errorf("title %q, heading %q: want the city's name", r.Title, r.Heading)
	}
	if r.Errors != 0 || r.Banner != "" {
		t.Errorf("page reports errors: %d, %q", r.Errors, r.Banner)
	}

	// live.js refreshes on its timer; stop it so the screenshot holds still.
	waitPage(t, ctx, "a refresh", func(r report) bool { return r.Loads >= 2 })
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.citypulse.stop(), true`)); err != nil {
		t.Fatalf("stop refresh: %v", err)
	}
	waitPage(t, ctx, "charts settled", settled)
	screenshot(t, ctx, dir, "dashboard-city.png")
	if rec.count("/assets/echarts.min.js") == 0 || rec.count("/assets/live.js") == 0 {
		t.Errorf("the page did not load its assets from the server: %v", rec.paths)
	}

	// Drill down: click 锦江区's bar.
	pt, err := chromedp.Run(ctx, chromedp.Evaluate[*struct{ X, Y float64 }](fmt.Sprintf(clickBarJS, apitest.Jinjiang)))
	if err != nil || pt == nil {
		t.Fatalf("find the bar of %s: %v", apitest.Jinjiang, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(pt.X, pt.Y)); err != nil {
		t.Fatalf("click (%.0f, %.0f): %v", pt.X, pt.Y, err)
	}
	wantURL := srv.URL + "/dashboard?region=" + apitest.Jinjiang
	r = waitPage(t, ctx, "the district after the click", func(r report) bool {
		return r.Location == wantURL && strings.Contains(r.Title, "锦江区") && chartsFilled(r)
	})
	if !strings.Contains(r.Heading, "锦江区") || strings.Join(r.Crumbs, "/") != "成都市/锦江区" {
		t.Errorf("after drill-down: heading %q, breadcrumb %v", r.Heading, r.Crumbs)
	}
	if r.Tiles["tile-active-users"] != "4" || r.Tiles["tile-page-views"] != "10" {
		t.Errorf("district tiles %v, want 4 users and 10 page views", r.Tiles)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.citypulse.stop(), true`)); err != nil {
		t.Fatalf("stop refresh: %v", err)
	}
	waitPage(t, ctx, "district charts settled", settled)
	screenshot(t, ctx, dir, "dashboard-district.png")
}

// TestDashboardUnknownRegion: a region the warehouse does not know shows the API's error.
func TestDashboardUnknownRegion(t *testing.T) {
	ctx := testenv.Chromium(t)
	srv, _ := startStack(t, 0, apitest.Seed)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dashboard?region=510104999000")); err != nil {
		t.Fatal(err)
	}
	r := waitPage(t, ctx, "an error banner", func(r report) bool { return r.Banner != "" })
	if !strings.Contains(r.Banner, "510104999000") || r.Loads != 0 {
		t.Errorf("banner %q after %d loads, want the API's error naming the region", r.Banner, r.Loads)
	}
}

// TestDashboardDemo shows a city-sized synthetic data set (apitest.DefaultDemo) ending today
// (China time): the tiles must match what the API answers, today's notes compare with
// yesterday up to the same time, and the screenshot shows the screen as a city would see it.
func TestDashboardDemo(t *testing.T) {
	ctx := testenv.Chromium(t)
	demo := apitest.DefaultDemo()
	local := time.Now().In(time.FixedZone("CST", 8*3600))
	demo.Last = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	srv, _ := startStack(t, 0, func(t testing.TB, conn driver.Conn) { apitest.SeedDemo(t, conn, demo) })
	resp, err := http.Get(srv.URL + dashboards.OverviewAPI)
	if err != nil {
		t.Fatal(err)
	}
	var ov apiserver.Overview
	err = json.NewDecoder(resp.Body).Decode(&ov)
	resp.Body.Close()
	if err != nil || len(ov.TopServices) != apiserver.TopServices || ov.ActiveUsers < 1000 {
		t.Fatalf("demo overview: %v: %+v", err, ov)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+dashboards.DashboardPath)); err != nil {
		t.Fatal(err)
	}
	r := waitPage(t, ctx, "charts settled", settled)
	group := func(n uint64) string { // what toLocaleString('zh-CN') shows
		s := fmt.Sprint(n)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	want := map[string]string{
		"tile-active-users": group(ov.ActiveUsers), "tile-page-views": group(ov.PageViews),
		"tile-today-users": group(ov.Today.ActiveUsers), "tile-today-views": group(ov.Today.PageViews),
	}
	for id, v := range want {
		if r.Tiles[id] != v {
			t.Errorf("tile %s shows %q, the API says %q", id, r.Tiles[id], v)
		}
	}
	if ov.PreviousSoFar == nil {
		t.Fatalf("the demo ends today (%s), but the API sent no previous_so_far", ov.Today.Date)
	}
	for id, pair := range map[string][2]uint64{
		"note-today-users": {ov.PreviousSoFar.ActiveUsers, ov.Today.ActiveUsers},
		"note-today-views": {ov.PreviousSoFar.PageViews, ov.Today.PageViews},
	} {
		checkNote(t, id, r.Tiles[id], "较昨日同时段", pair[0], pair[1])
	}
	for _, c := range r.Charts {
		if c.ID == dashboards.ServicesChartID && c.Points[0] != apiserver.TopServices {
			t.Errorf("services chart has %d bars, want %d", c.Points[0], apiserver.TopServices)
		}
	}
	screenshot(t, ctx, screenshotDir(t), "dashboard-demo.png")
}

// checkNote checks a "label ▲12.5%" note against the change from before to now (to 0.05, as
// JavaScript's toFixed and Go may round a tie apart); no base, no note.
func checkNote(t *testing.T, id, got, label string, before, now uint64) {
	t.Helper()
	if before == 0 {
		if got != "" {
			t.Errorf("%s shows %q without a base, want nothing", id, got)
		}
		return
	}
	pct := (float64(now) - float64(before)) / float64(before) * 100
	arrow := "▲"
	if pct < 0 {
		arrow = "▼"
	}
	rest, ok := strings.CutPrefix(got, label+" "+arrow)
	v, err := strconv.ParseFloat(strings.TrimSuffix(rest, "%"), 64)
	if !ok || !strings.HasSuffix(rest, "%") || err != nil || math.Abs(v-math.Abs(pct)) > 0.051 {
		t.Errorf("%s shows %q, want %s %s%.1f%% (%d → %d)", id, got, label, arrow, math.Abs(pct), before, now)
	}
}
