package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citypulse/citypulse/internal/httpserve"
)

// ReadyTimeout bounds the ClickHouse ping of /readyz.
const ReadyTimeout = 2 * time.Second

// Server answers the API from one warehouse connection. Build it with New.
type Server struct {
	conn       driver.Conn
	cfg        Config
	log        *slog.Logger
	cityPrefix string
	mux        *http.ServeMux
	metrics    *metrics
}

// New builds a server reading through conn (whose default database holds the warehouse tables).
// Its request metrics are registered on reg, and /metrics serves everything reg gathers; a nil
// reg gets a private registry.
func New(conn driver.Conn, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Server, error) {
	if conn == nil {
		return nil, errors.New("apiserver: nil warehouse connection")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("apiserver config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		conn:       conn,
		cfg:        cfg,
		log:        log,
		cityPrefix: cfg.CityCode[:4],
		mux:        http.NewServeMux(),
		metrics:    m,
	}
	s.route("GET /api/v1/overview", http.HandlerFunc(s.handleOverview))
	s.route("GET /api/v1/realtime", http.HandlerFunc(s.handleRealtime))
	s.route("GET /api/v1/regions", http.HandlerFunc(s.handleRegions))
	s.route("GET /api/v1/tracking/violations", http.HandlerFunc(s.handleViolations))
	s.route("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.route("GET /readyz", http.HandlerFunc(s.handleReadyz))
	s.route("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.route("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpserve.WriteError(w, http.StatusNotFound, "", "no such API endpoint: "+r.URL.Path)
	}))
	return s, nil
}

// Handler returns the server's routes, each counted, timed and logged.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle mounts an extra handler (e.g. the dashboards on "/") beside the API, with the same
// request metrics and logs, labelled with pattern. Patterns follow http.ServeMux; a pattern that
// conflicts with an existing one is an error.
func (s *Server) Handle(pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mount %q: %v", pattern, p)
		}
	}()
	s.route(pattern, h)
	return nil
}

func (s *Server) route(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.instrument(pattern, s.guardWrites(h)))
}

// guardWrites lets reads through and asks every other request for the admin token: 403 when
// the server has none (writes are off), 401 with a Bearer challenge when the request lacks it.
func (s *Server) guardWrites(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			h.ServeHTTP(w, r)
			return
		}
		if s.cfg.AdminToken == "" {
			httpserve.WriteError(w, http.StatusForbidden, "", "writes are off on this server: start it with api-admin-token set")
			return
		}
		if !httpserve.HasBearer(r, s.cfg.AdminToken) {
			s.log.Warn("api: write without the admin token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			httpserve.WriteUnauthorized(w, "citypulse-api", "api-admin-token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	if err := s.conn.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		httpserve.WriteError(w, http.StatusServiceUnavailable, "", "warehouse unreachable: "+err.Error())
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code, perr := parseRegion(q, "region", s.cfg.CityCode)
	if perr == nil {
		var days int
		days, perr = parseDays(q, s.cfg.TrendDays)
		if perr == nil {
			s.serveOverview(w, r, code, days)
			return
		}
	}
	httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
}

func (s *Server) serveOverview(w http.ResponseWriter, r *http.Request, code string, days int) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	fam, ok := s.family(ctx, w, r, "region", code)
	if !ok {
		return
	}
	ov, err := s.overview(ctx, fam, days)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, ov)
}

// Regions is the answer of GET /api/v1/regions: a region and its children.
type Regions struct {
	Parent  Region   `json:"parent"`
	Path    []Region `json:"path"`
	Regions []Region `json:"regions"`
}

func (s *Server) handleRegions(w http.ResponseWriter, r *http.Request) {
	code, perr := parseRegion(r.URL.Query(), "parent", s.cfg.CityCode)
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	fam, ok := s.family(ctx, w, r, "parent", code)
	if !ok {
		return
	}
	kids := fam.Children
	if kids == nil {
		kids = []Region{}
	}
	httpserve.WriteJSON(w, http.StatusOK, Regions{Parent: fam.Self, Path: fam.Path, Regions: kids})
}

// family looks the region up, answering 404 (naming field) or 500 itself when it cannot.
func (s *Server) family(ctx context.Context, w http.ResponseWriter, r *http.Request, field, code string) (regionFamily, bool) {
	fam, err := s.lookupRegion(ctx, code)
	switch {
	case errors.Is(err, errRegionNotFound):
		httpserve.WriteError(w, http.StatusNotFound, field, fmt.Sprintf("no region %s in dim_region (unknown code, or dimensions not loaded)", code))
		return fam, false
	case err != nil:
		s.fail(w, r, err)
		return fam, false
	}
	return fam, true
}

// fail logs a warehouse error and answers 503 (timeout) or 500 without internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
	if errors.Is(err, context.DeadlineExceeded) {
		httpserve.WriteError(w, http.StatusServiceUnavailable, "", "warehouse query timed out")
		return
	}
	httpserve.WriteError(w, http.StatusInternalServerError, "", "warehouse query failed")
}
