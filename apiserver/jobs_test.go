package apiserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// testScheduler declares extract → daily (and a disabled job) on a fresh SQLite store.
func testScheduler(t *testing.T) *scheduler.Scheduler {
	t.Helper()
	ok := func(ctx context.Context, r scheduler.Run) (scheduler.RunResult, error) {
		r.Log.Info("computed the day", "day", r.Day())
		return scheduler.RunResult{Rows: 7}, nil
	}
	jobs := []scheduler.Job{
		{Name: "extract", Schedule: "30 0 * * *", Description: "pulls the day", Run: ok},
		{Name: "daily", DependsOn: []string{"extract"}, Run: ok},
		{Name: "off", Disabled: true, Run: ok},
		{Name: "broken", Retries: scheduler.NoRetries, Run: func(context.Context, scheduler.Run) (scheduler.RunResult, error) {
			return scheduler.RunResult{}, errors.New("source <unreachable>")
		}},
	}
	cfg := scheduler.DefaultConfig()
	cfg.Instance, cfg.CatchUp = "api-test", 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := scheduler.New(ctx, metastoretest.SQLite(t), cfg, jobs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jobsServer(t *testing.T, s *scheduler.Scheduler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range apiserver.JobsRoutes(s, nil) {
		mux.Handle(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func jobsCall(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	return jobsCallAs(t, "", method, url, body)
}

// jobsCallAs is jobsCall with "Authorization: Bearer token" (none when token is empty).
func jobsCallAs(t *testing.T, token, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestJobsAPI(t *testing.T) {
	s := testScheduler(t)
	srv := jobsServer(t, s)
	tests := []struct {
		method, path, body string
		status             int
		want               []string // substrings of the answer
	}{
		{"GET", "/api/v1/jobs", "", 200, []string{`"name":"extract"`, `"schedule":"30 0 * * *"`, `"next_run":`, `"depends_on":["extract"]`}},
		{"GET", "/api/v1/jobs/daily", "", 200, []string{`"name":"daily"`, `"partition":"day"`}},
		{"GET", "/api/v1/jobs/ghost", "", 404, []string{`"field":"name"`, "no such job"}},
		{"POST", "/api/v1/jobs/extract/trigger", "", 202, []string{`"created":2`, `"job":"daily"`, `"trigger":"manual"`, `"requested_by":"api@127.0.0.1"`}},
		{"POST", "/api/v1/jobs/extract/trigger", `{"logical_time": "2024-05-01", "downstream": false}`, 202, []string{`"created":1`, `"partition":"2024-05-01"`}},
		{"POST", "/api/v1/jobs/extract/trigger", `{"logical_time": "May Day"}`, 400, []string{`"field":"logical_time"`}},
		{"POST", "/api/v1/jobs/extract/trigger", `{"when": "now"}`, 400, []string{`"field":"body"`, "unknown field"}},
		{"POST", "/api/v1/jobs/ghost/trigger", "", 404, []string{"no such job"}},
		{"POST", "/api/v1/jobs/off/trigger", "", 409, []string{"disabled"}},
		{"POST", "/api/v1/jobs/broken/trigger", "", 202, []string{`"created":1`}},
		{"POST", "/api/v1/jobs/extract/backfill", `{"from": "2024-04-01"}`, 400, []string{`"field":"to"`}},
		{"POST", "/api/v1/jobs/extract/backfill", `{"from": "2024-04-03", "to": "2024-04-01"}`, 400, []string{`"field":"to"`, "before from"}},
		{"POST", "/api/v1/jobs/extract/backfill", `{"from": "2024-04-01", "to": "2024-04-03"}`, 202, []string{`"created":6`}},
		{"GET", "/api/v1/jobs/extract/runs?limit=x", "", 400, []string{`"field":"limit"`}},
		{"GET", "/api/v1/jobs/extract/runs?state=lost", "", 400, []string{`"field":"state"`}},
		{"GET", "/api/v1/runs/abc", "", 400, []string{`"field":"id"`}},
		{"GET", "/api/v1/runs/999", "", 404, []string{"no such run"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			status, body := jobsCall(t, tc.method, srv.URL+tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %s: %s", w, body)
				}
			}
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	status, body := jobsCall(t, "GET", srv.URL+"/api/v1/jobs/extract/runs?state=succeeded&limit=2", "")
	var runs []scheduler.RunRecord
	if status != 200 || json.Unmarshal([]byte(body), &runs) != nil || len(runs) != 2 || runs[0].Rows != 7 {
		t.Fatalf("runs: %d %s", status, body)
	}
	status, body = jobsCall(t, "GET", srv.URL+"/api/v1/jobs/extract/runs?before="+itoa(runs[1].ID), "")
	if status != 200 || strings.Count(body, `"id":`) != 3 {
		t.Errorf("next page: %d %s", status, body)
	}
	status, body = jobsCall(t, "GET", srv.URL+"/api/v1/runs/1", "")
	var run scheduler.RunRecord
	if status != 200 || json.Unmarshal([]byte(body), &run) != nil || len(run.Attempts) != 1 || !strings.Contains(strings.Join(run.Attempts[0].Log, "\n"), "computed the day") {
		t.Errorf("run 1: %d %s", status, body)
	}
	var e struct{ Error httpserve.Error }
	if _, body := jobsCall(t, "GET", srv.URL+"/api/v1/jobs/ghost/runs", ""); json.Unmarshal([]byte(body), &e) != nil || e.Error.Status != 404 {
		t.Errorf("unknown job's runs: %s", body)
	}

	// The status pages.
	status, page := jobsCall(t, "GET", srv.URL+"/jobs", "")
	for _, w := range []string{"<table id=\"jobs\">", "extract", "pulls the day", "30 0 * * *", "succeeded", "source &lt;unreachable&gt;", "/jobs/runs/1"} {
		if status != 200 || !strings.Contains(page, w) {
			t.Errorf("/jobs (%d) lacks %q", status, w)
		}
	}
	if strings.Contains(page, "<unreachable>") {
		t.Error("/jobs does not escape error text")
	}
	if _, page := jobsCall(t, "GET", srv.URL+"/jobs?job=daily", ""); strings.Contains(page, "</a></td><td>extract</td>") || !strings.Contains(page, "</a></td><td>daily</td>") {
		t.Error("/jobs?job=daily does not list daily's runs only")
	}
	status, page = jobsCall(t, "GET", srv.URL+"/jobs/runs/1", "")
	if status != 200 || !strings.Contains(page, "computed the day") || !strings.Contains(page, "Attempt 1 on api-test") {
		t.Errorf("/jobs/runs/1: %d\n%s", status, page)
	}
	if status, _ := jobsCall(t, "GET", srv.URL+"/jobs/runs/999", ""); status != 404 {
		t.Errorf("/jobs/runs/999: %d, want 404", status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestJobsMounted mounts the routes on the real API server (request metrics per route) and
// reads the status page in Chromium.
func TestJobsMounted(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	cfg := apiserver.DefaultConfig()
	cfg.AdminToken = testAdminToken
	api, err := apiserver.New(conn, cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	s := testScheduler(t)
	if err := api.MountJobs(s); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	trigger := srv.URL + "/api/v1/jobs/extract/trigger"
	if status, body := jobsCall(t, "POST", trigger, `{"logical_time": "2024-05-01"}`); status != 401 || !strings.Contains(body, "api-admin-token") {
		t.Fatalf("trigger without the admin token: %d %s, want 401", status, body)
	}
	if status, _ := jobsCallAs(t, "wrong-token-0123456789", "POST", trigger, `{"logical_time": "2024-05-01"}`); status != 401 {
		t.Fatalf("trigger with a wrong token: %d, want 401", status)
	}
	if status, body := jobsCallAs(t, testAdminToken, "POST", trigger, `{"logical_time": "2024-05-01"}`); status != 202 {
		t.Fatalf("trigger: %d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	_, metrics := jobsCall(t, "GET", srv.URL+"/metrics", "")
	if !strings.Contains(metrics, `citypulse_api_requests_total{route="POST /api/v1/jobs/{name}/trigger",status="202"} 1`) ||
		!strings.Contains(metrics, `citypulse_api_requests_total{route="POST /api/v1/jobs/{name}/trigger",status="401"} 2`) {
		t.Errorf("no request metric for the trigger route:\n%s", metrics)
	}

	browser := testenv.Chromium(t)
	if err := chromedp.Do(browser, chromedp.Navigate(srv.URL+"/jobs")); err != nil {
		t.Fatal(err)
	}
	type row struct{ Job, LastRun string }
	rows, err := chromedp.Run(browser, chromedp.Evaluate[[]row](`[...document.querySelectorAll("#jobs tr")].slice(1).map(tr =>
  ({Job: tr.cells[0].querySelector("a").textContent, LastRun: tr.cells[5].innerText}))`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Job] = r.LastRun
	}
	if len(rows) != 4 || !strings.Contains(got["extract"], "2024-05-01 succeeded") || !strings.Contains(got["daily"], "2024-05-01 succeeded") || got["off"] != "–" {
		t.Errorf("jobs table in the browser: %+v", rows)
	}
}
