package apiserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/warehouse/review"
)

// The community review endpoints (社区数据更新服务), served by MountReview over warehouse/review:
//
//	GET  /api/v1/community/changes               pending change requests (review.Page)
//	     ?dataset=person_house&region=<12-digit code>&from=&to=&after=<next>&limit=
//	GET  /api/v1/community/changes/{id}          one request, pending or decided (review.Request)
//	POST /api/v1/community/changes/{id}/approve  write it into dwd_<dataset> (review.Outcome)
//	POST /api/v1/community/changes/{id}/reject   refuse it; comment required (review.Outcome)
//	     body {"reviewer": "…", "comment": "…"}, or the reviewer in the X-CityPulse-Reviewer header
//	GET  /api/v1/community/compare               a reference feed against dwd (review.Comparison)
//	     ?dataset=person&batch=<id>|source=<name>&region=&missing_from_reference=true&status=&after=&limit=
//	GET  /api/v1/community/stale-addresses       people whose stated address is a house they left (review.StaleList)
//	     ?region=&after=&limit=
//
// Unlike the rest of the API, approve writes to the warehouse (dwd_<dataset> and
// ods_change_decisions), through warehouse/review, and like every write needs the api-admin-token;
// the reviewer is whoever the caller names (there are no user accounts yet). A repeated decision answers 200 with "repeated": true; a
// contradicting one 409; a request that cannot be approved 422 (it can still be rejected).
var reviewRoutes = []string{
	"GET /api/v1/community/changes",
	"GET /api/v1/community/changes/{id}",
	"POST /api/v1/community/changes/{id}/approve",
	"POST /api/v1/community/changes/{id}/reject",
	"GET /api/v1/community/compare",
	"GET /api/v1/community/stale-addresses",
}

// MountReview adds the community review endpoints, answered by a review.Service on the
// server's warehouse connection built with opts (a nil opts.Log means the server's logger).
// Each route is counted and logged like the others. It fails if they are already mounted or the
// service's metrics cannot be registered on opts.Registerer.
func (s *Server) MountReview(opts review.Options) error {
	if opts.Log == nil {
		opts.Log = s.log
	}
	svc, err := review.New(s.conn, opts)
	if err != nil {
		return err
	}
	h := &reviewHandlers{s: s, svc: svc}
	handlers := []http.HandlerFunc{h.list, h.get, h.approve, h.reject, h.compare, h.stale}
	for i, pattern := range reviewRoutes {
		if err := s.Handle(pattern, handlers[i]); err != nil {
			return err
		}
	}
	return nil
}

type reviewHandlers struct {
	s   *Server
	svc *review.Service
}

func (h *reviewHandlers) list(w http.ResponseWriter, r *http.Request) {
	q, perr := parseChangesQuery(r.URL.Query(), h.s.cfg.CityCode)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.QueryTimeout)
	defer cancel()
	page, err := h.svc.List(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, page)
}

func (h *reviewHandlers) get(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.QueryTimeout)
	defer cancel()
	req, err := h.svc.Get(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, req)
}

func (h *reviewHandlers) approve(w http.ResponseWriter, r *http.Request) { h.decide(w, r, false) }

func (h *reviewHandlers) reject(w http.ResponseWriter, r *http.Request) { h.decide(w, r, true) }

func (h *reviewHandlers) decide(w http.ResponseWriter, r *http.Request, reject bool) {
	reviewer, comment, perr := parseDecision(r.Header.Get(ReviewerHeader), r.Body, reject)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.QueryTimeout)
	defer cancel()
	decide := h.svc.Approve
	if reject {
		decide = h.svc.Reject
	}
	out, err := decide(ctx, r.PathValue("id"), reviewer, comment)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, out)
}

func (h *reviewHandlers) compare(w http.ResponseWriter, r *http.Request) {
	q, perr := parseCompareQuery(r.URL.Query(), h.s.cfg.CityCode)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.QueryTimeout)
	defer cancel()
	c, err := h.svc.Compare(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, c)
}

func (h *reviewHandlers) stale(w http.ResponseWriter, r *http.Request) {
	q, perr := parseStaleQuery(r.URL.Query(), h.s.cfg.CityCode)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.QueryTimeout)
	defer cancel()
	list, err := h.svc.StaleAddresses(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, list)
}

// fail answers a review error: the caller's mistakes with their status and field, the rest as
// the server's other warehouse failures.
func (h *reviewHandlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *review.InputError
	switch {
	case errors.Is(err, review.ErrUnusable):
		httpserve.WriteError(w, http.StatusUnprocessableEntity, "", err.Error())
	case errors.As(err, &ie):
		httpserve.WriteError(w, http.StatusBadRequest, ie.Field, ie.Reason)
	case errors.Is(err, review.ErrNotFound):
		httpserve.WriteError(w, http.StatusNotFound, "id", "no change request "+r.PathValue("id"))
	case errors.Is(err, review.ErrConflict):
		httpserve.WriteError(w, http.StatusConflict, "", err.Error())
	default:
		h.s.fail(w, r, err)
	}
}
