package apiserver_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// TestJobsCancelAPI cancels queued runs, a whole job's and a range's, and a running run through
// the real API server (admin token, request metrics), against a scheduler whose Run loop stops
// the running one; then reads the cancelled state on the status pages and the metric.
func TestJobsCancelAPI(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	reg := prometheus.NewRegistry()
	cfg := apiserver.DefaultConfig()
	cfg.AdminToken = testAdminToken
	api, err := apiserver.New(conn, cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	ok := func(ctx context.Context, r scheduler.Run) (scheduler.RunResult, error) {
		return scheduler.RunResult{Rows: 7}, nil
	}
	sawCancel := make(chan error, 1)
	jobs := []scheduler.Job{
		{Name: "extract", Schedule: "30 0 * * *", Run: ok},
		{Name: "daily", DependsOn: []string{"extract"}, Run: ok},
		{Name: "slow", Run: func(ctx context.Context, r scheduler.Run) (scheduler.RunResult, error) {
			<-ctx.Done()
			sawCancel <- context.Cause(ctx)
			return scheduler.RunResult{}, ctx.Err()
		}},
	}
	scfg := scheduler.DefaultConfig()
	scfg.Instance, scfg.CatchUp = "api-test", 0
	scfg.PollInterval, scfg.LeaseTTL = 20*time.Millisecond, 3*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := scheduler.New(ctx, metastoretest.SQLite(t), scfg, jobs, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.MountJobs(s); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	// Runs 1–2: extract and daily for 05-01, done. 3–8: a backfill of 04-01..04-03. 9–10: 04-10.
	for _, e := range []struct{ path, body string }{
		{"/api/v1/jobs/extract/trigger", `{"logical_time": "2024-05-01"}`},
	} {
		if status, body := jobsCallAs(t, testAdminToken, "POST", srv.URL+e.path, e.body); status != 202 {
			t.Fatalf("%s: %d %s", e.path, status, body)
		}
	}
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct{ path, body string }{
		{"/api/v1/jobs/extract/backfill", `{"from": "2024-04-01", "to": "2024-04-03"}`},
		{"/api/v1/jobs/extract/trigger", `{"logical_time": "2024-04-10"}`},
	} {
		if status, body := jobsCallAs(t, testAdminToken, "POST", srv.URL+e.path, e.body); status != 202 {
			t.Fatalf("%s: %d %s", e.path, status, body)
		}
	}

	tests := []struct {
		name, token, path, body string
		status                  int
		want                    []string
	}{
		{"no token", "", "/api/v1/runs/9/cancel", "", 401, []string{"api-admin-token"}},
		{"wrong token", "wrong-token-0123456789", "/api/v1/jobs/extract/cancel", "", 401, nil},
		{"a queued run", testAdminToken, "/api/v1/runs/9/cancel", "", 200, []string{`"cancelled":2`, `"stopping":0`, `"id":9`, `"id":10`, `"state":"cancelled"`, `"cancelled_by":"api@127.0.0.1"`, `"cancel_requested":`}},
		{"it again", testAdminToken, "/api/v1/runs/9/cancel", "", 409, []string{`"field":"id"`, "already finished", "is cancelled"}},
		{"a succeeded run", testAdminToken, "/api/v1/runs/1/cancel", "", 409, []string{"is succeeded"}},
		{"an unknown run", testAdminToken, "/api/v1/runs/999/cancel", "", 404, []string{`"field":"id"`, "no such run"}},
		{"not a run id", testAdminToken, "/api/v1/runs/abc/cancel", "", 400, []string{`"field":"id"`}},
		{"a run with a body", testAdminToken, "/api/v1/runs/3/cancel", `{"from": "2024-04-01"}`, 400, []string{`"field":"body"`}},
		{"an unknown job", testAdminToken, "/api/v1/jobs/ghost/cancel", "", 404, []string{`"field":"name"`}},
		{"a bad from", testAdminToken, "/api/v1/jobs/extract/cancel", `{"from": "soon"}`, 400, []string{`"field":"from"`}},
		{"to before from", testAdminToken, "/api/v1/jobs/extract/cancel", `{"from": "2024-04-03", "to": "2024-04-01"}`, 400, []string{`"field":"to"`}},
		{"an unknown field", testAdminToken, "/api/v1/jobs/extract/cancel", `{"until": "2024-04-03"}`, 400, []string{`"field":"body"`, "unknown field"}},
		{"a trigger's field", testAdminToken, "/api/v1/jobs/extract/cancel", `{"logical_time": "2024-04-03"}`, 400, []string{`"field":"body"`}},
		{"one day of the backfill", testAdminToken, "/api/v1/jobs/extract/cancel", `{"from": "2024-04-02", "to": "2024-04-02"}`, 200, []string{`"cancelled":2`, `"partition":"2024-04-02"`}},
		{"the rest of the job", testAdminToken, "/api/v1/jobs/extract/cancel", "", 200, []string{`"cancelled":4`, `"partition":"2024-04-01"`, `"partition":"2024-04-03"`}},
		{"nothing left", testAdminToken, "/api/v1/jobs/extract/cancel", "", 200, []string{`"runs":[]`, `"cancelled":0`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := jobsCallAs(t, tc.token, "POST", srv.URL+tc.path, tc.body)
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

	// A running run: the Run loop executes it and stops it when the cancel request reaches it.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	status, body := jobsCallAs(t, testAdminToken, "POST", srv.URL+"/api/v1/jobs/slow/trigger", "")
	var enq scheduler.EnqueueResult
	if status != 202 || json.Unmarshal([]byte(body), &enq) != nil || len(enq.Runs) != 1 {
		t.Fatalf("trigger slow: %d %s", status, body)
	}
	slow := itoa(enq.Runs[0].ID)
	waitUntil(t, "slow to run", func() bool {
		r, err := s.GetRun(ctx, enq.Runs[0].ID)
		return err == nil && r.State == scheduler.StateRunning
	})
	status, body = jobsCallAs(t, testAdminToken, "POST", srv.URL+"/api/v1/runs/"+slow+"/cancel", "")
	if status != 200 || !strings.Contains(body, `"stopping":1`) || !strings.Contains(body, `"state":"running"`) {
		t.Fatalf("cancel the running run: %d %s", status, body)
	}
	if cause := <-sawCancel; cause == nil || !strings.Contains(cause.Error(), "run cancelled by api@127.0.0.1") {
		t.Errorf("the job's context ended with cause %v", cause)
	}
	waitUntil(t, "slow to end", func() bool {
		r, err := s.GetRun(ctx, enq.Runs[0].ID)
		return err == nil && r.State.Terminal()
	})
	if r, _ := s.GetRun(ctx, enq.Runs[0].ID); r.State != scheduler.StateCancelled || r.Attempt != 1 {
		t.Errorf("slow: %s after %d attempts, want cancelled after 1", r.State, r.Attempt)
	}

	_, page := jobsCall(t, "GET", srv.URL+"/jobs", "")
	if !strings.Contains(page, `<span class="state cancelled">cancelled</span>`) || !strings.Contains(page, ".cancelled{") {
		t.Errorf("/jobs does not show the cancelled state:\n%s", page)
	}
	if _, page := jobsCall(t, "GET", srv.URL+"/jobs/runs/"+slow, ""); !strings.Contains(page, "Cancel requested") || !strings.Contains(page, "by api@127.0.0.1") {
		t.Errorf("/jobs/runs/%s does not say who cancelled it:\n%s", slow, page)
	}
	_, metrics := jobsCall(t, "GET", srv.URL+"/metrics", "")
	for _, w := range []string{
		`citypulse_scheduler_runs_cancelled_total{job="extract"} 4`,
		`citypulse_scheduler_runs_cancelled_total{job="daily"} 4`,
		`citypulse_scheduler_runs_cancelled_total{job="slow"} 1`,
		`citypulse_api_requests_total{route="POST /api/v1/runs/{id}/cancel",status="401"} 1`,
		`citypulse_api_requests_total{route="POST /api/v1/jobs/{name}/cancel",status="200"} 3`,
	} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// waitUntil polls cond, failing after a generous minute (a hang, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
