package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// maxJobsBody bounds the JSON body of a trigger or backfill request.
const maxJobsBody = 64 << 10

// JobsRoutes are the scheduler's HTTP API and status page, by ServeMux pattern, for
// Server.MountJobs or Run's extra handlers:
//
//	GET  /api/v1/jobs                    the jobs with schedule, next run and last run ([]scheduler.JobStatus)
//	GET  /api/v1/jobs/{name}             one job
//	GET  /api/v1/jobs/{name}/runs        its runs, newest first (?state=, ?limit= up to 1000, ?before=RUN_ID)
//	POST /api/v1/jobs/{name}/trigger     enqueue a run; optional body {"logical_time": "2024-05-01", "downstream": false}
//	POST /api/v1/jobs/{name}/backfill    enqueue a range; body {"from": "2024-05-01", "to": "2024-05-07", "downstream": false}
//	POST /api/v1/jobs/{name}/cancel      cancel its queued and running runs; optional body {"from": "2024-05-01", "to": "2024-05-07"}
//	GET  /api/v1/runs/{id}               one run with its attempts and their logs
//	POST /api/v1/runs/{id}/cancel        cancel one queued or running run
//	GET  /jobs                           status page: jobs and recent runs (?job= to filter)
//	GET  /jobs/runs/{id}                 status page of one run with its logs
//
// trigger and backfill answer 202 with a scheduler.EnqueueResult; "downstream" defaults to true
// (the dependent jobs are enqueued too). Bad requests answer 400 naming the field, unknown jobs
// and runs 404, disabled jobs 409. The cancels answer 200 with a scheduler.CancelResult (the
// runs as they are now: cancelled, or running with cancel_requested set while the instance
// executing them stops them; pending downstream runs cancelled with them follow), 409 for a run
// that has already ended, 404 for an unknown job or run, 400 naming the field (from, to, id,
// body). Mounted on a Server, trigger, backfill and the cancels need the api-admin-token like
// every write (401 without it, 403 on a server without one); mounted on a bare mux they are as
// open as that mux.
func JobsRoutes(sched *scheduler.Scheduler, log *slog.Logger) map[string]http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &jobsHandler{sched: sched, log: log}
	return map[string]http.Handler{
		"GET /api/v1/jobs":                  http.HandlerFunc(h.list),
		"GET /api/v1/jobs/{name}":           http.HandlerFunc(h.job),
		"GET /api/v1/jobs/{name}/runs":      http.HandlerFunc(h.runs),
		"POST /api/v1/jobs/{name}/trigger":  http.HandlerFunc(h.trigger),
		"POST /api/v1/jobs/{name}/backfill": http.HandlerFunc(h.backfill),
		"POST /api/v1/jobs/{name}/cancel":   http.HandlerFunc(h.cancelJob),
		"GET /api/v1/runs/{id}":             http.HandlerFunc(h.run),
		"POST /api/v1/runs/{id}/cancel":     http.HandlerFunc(h.cancelRun),
		"GET /jobs":                         http.HandlerFunc(h.page),
		"GET /jobs/runs/{id}":               http.HandlerFunc(h.runPage),
	}
}

// MountJobs adds JobsRoutes to the server, counted and logged like its other routes.
func (s *Server) MountJobs(sched *scheduler.Scheduler) error {
	if sched == nil {
		return errors.New("apiserver: nil scheduler")
	}
	for pattern, h := range JobsRoutes(sched, s.log) {
		if err := s.Handle(pattern, h); err != nil {
			return fmt.Errorf("apiserver: %w", err)
		}
	}
	return nil
}

type jobsHandler struct {
	sched *scheduler.Scheduler
	log   *slog.Logger
}

func (h *jobsHandler) list(w http.ResponseWriter, r *http.Request) {
	jobs, err := h.sched.Jobs(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, jobs)
}

func (h *jobsHandler) job(w http.ResponseWriter, r *http.Request) {
	st, err := h.sched.Job(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, st)
}

func (h *jobsHandler) runs(w http.ResponseWriter, r *http.Request) {
	f, perr := runFilter(r)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	f.Job = r.PathValue("name")
	runs, err := h.sched.Runs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, runs)
}

// runFilter reads ?state=, ?limit= and ?before=.
func runFilter(r *http.Request) (scheduler.RunFilter, *paramError) {
	q := r.URL.Query()
	f := scheduler.RunFilter{State: scheduler.State(q.Get("state"))}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"limit", nil}, {"before", &f.Before}} {
		text := q.Get(p.name)
		if text == "" {
			continue
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 1 {
			return f, &paramError{Status: http.StatusBadRequest, Field: p.name, Message: fmt.Sprintf("%q: want a whole number ≥ 1", text)}
		}
		if p.dst == nil {
			f.Limit = int(min(n, 1000))
		} else {
			*p.dst = n
		}
	}
	return f, nil
}

// runID reads the {id} of the path, answering 400 itself when it is not one.
func runID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpserve.WriteError(w, http.StatusBadRequest, "id", fmt.Sprintf("%q is not a run id", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (h *jobsHandler) run(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	run, err := h.sched.GetRun(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, run)
}

func (h *jobsHandler) cancelRun(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	req, ok := readEnqueue(w, r)
	if !ok {
		return
	}
	if req != (enqueueRequest{}) {
		httpserve.WriteError(w, http.StatusBadRequest, "body", "cancelling one run takes no fields")
		return
	}
	res, err := h.sched.Cancel(r.Context(), id, requester(r))
	h.cancelled(w, r, res, err)
}

func (h *jobsHandler) cancelJob(w http.ResponseWriter, r *http.Request) {
	req, ok := readEnqueue(w, r)
	if !ok {
		return
	}
	if req.LogicalTime != "" || req.Downstream != nil {
		httpserve.WriteError(w, http.StatusBadRequest, "body", "a cancel takes only from and to")
		return
	}
	res, err := h.sched.CancelJob(r.Context(), r.PathValue("name"), req.From, req.To, requester(r))
	h.cancelled(w, r, res, err)
}

func (h *jobsHandler) cancelled(w http.ResponseWriter, r *http.Request, res scheduler.CancelResult, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("job runs cancelled", "path", r.URL.Path, "cancelled", res.Cancelled, "stopping", res.Stopping, "remote", r.RemoteAddr)
	httpserve.WriteJSON(w, http.StatusOK, res)
}

// enqueueRequest is the body of trigger (logical_time) and backfill (from, to).
type enqueueRequest struct {
	LogicalTime string `json:"logical_time"`
	From        string `json:"from"`
	To          string `json:"to"`
	Downstream  *bool  `json:"downstream"`
}

func (h *jobsHandler) trigger(w http.ResponseWriter, r *http.Request) {
	req, ok := readEnqueue(w, r)
	if !ok {
		return
	}
	res, err := h.sched.Trigger(r.Context(), r.PathValue("name"), req.LogicalTime, enqueueOptions(r, req))
	h.enqueued(w, r, res, err)
}

func (h *jobsHandler) backfill(w http.ResponseWriter, r *http.Request) {
	req, ok := readEnqueue(w, r)
	if !ok {
		return
	}
	for field, v := range map[string]string{"from": req.From, "to": req.To} {
		if strings.TrimSpace(v) == "" {
			httpserve.WriteError(w, http.StatusBadRequest, field, field+" is required (a date such as 2024-05-01)")
			return
		}
	}
	res, err := h.sched.Backfill(r.Context(), r.PathValue("name"), req.From, req.To, enqueueOptions(r, req))
	h.enqueued(w, r, res, err)
}

func (h *jobsHandler) enqueued(w http.ResponseWriter, r *http.Request, res scheduler.EnqueueResult, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("job runs enqueued", "path", r.URL.Path, "created", res.Created, "runs", len(res.Runs), "remote", r.RemoteAddr)
	httpserve.WriteJSON(w, http.StatusAccepted, res)
}

// readEnqueue decodes an optional JSON body, answering 400 itself when it is bad.
func readEnqueue(w http.ResponseWriter, r *http.Request) (enqueueRequest, bool) {
	var req enqueueRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJobsBody))
	if err != nil {
		httpserve.WriteError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body: want at most %d bytes of JSON", maxJobsBody))
		return req, false
	}
	if strings.TrimSpace(string(body)) == "" {
		return req, true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpserve.WriteError(w, http.StatusBadRequest, "body", "want a JSON object with logical_time, or from and to, and downstream: "+err.Error())
		return req, false
	}
	return req, true
}

func enqueueOptions(r *http.Request, req enqueueRequest) scheduler.EnqueueOptions {
	return scheduler.EnqueueOptions{By: requester(r), NoDownstream: req.Downstream != nil && !*req.Downstream}
}

// requester names who asked, for the run records: api@<client address>.
func requester(r *http.Request) string {
	by := "api"
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		by += "@" + host
	}
	return by
}

// fail answers a scheduler error as JSON.
func (h *jobsHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, field, msg := h.classify(r, err)
	httpserve.WriteError(w, status, field, msg)
}

// classify maps a scheduler error to a status, field and message: 400, 404 or 409 for the
// caller's mistakes; 500, logged, without internals otherwise.
func (h *jobsHandler) classify(r *http.Request, err error) (status int, field, msg string) {
	var ie *scheduler.InputError
	switch {
	case errors.As(err, &ie):
		return http.StatusBadRequest, ie.Field, ie.Reason
	case errors.Is(err, scheduler.ErrUnknownJob):
		return http.StatusNotFound, "name", err.Error()
	case errors.Is(err, scheduler.ErrNoRun):
		return http.StatusNotFound, "id", err.Error()
	case errors.Is(err, scheduler.ErrDisabled):
		return http.StatusConflict, "name", err.Error()
	case errors.Is(err, scheduler.ErrFinished):
		return http.StatusConflict, "id", err.Error()
	}
	h.log.Error("jobs request failed", "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "", "metadata store request failed"
}
