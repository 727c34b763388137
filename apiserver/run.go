package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/citypulse/citypulse/warehouse/review"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/warehouse"
)

// Run serves the API on cfg.Listen until ctx ends (the `citypulse api` subcommand). It connects
// to the warehouse described by whCfg, registers the request metrics on reg (whose gatherer
// /metrics serves) and mounts every extra handler at its ServeMux pattern beside the API routes,
// counted and logged like them: the binary passes the dashboards as {"/": dashboards handler},
// so one listener serves both (apiserver does not import dashboards).
func Run(ctx context.Context, cfg Config, whCfg warehouse.Config, log *slog.Logger, reg *prometheus.Registry, extra map[string]http.Handler) error {
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("apiserver config: %w", err)
	}
	conn, err := warehouse.Open(ctx, whCfg)
	if err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	defer conn.Close()
	s, err := New(conn, cfg, log, reg)
	if err != nil {
		return err
	}
	if err := s.MountReview(review.Options{Log: log, Registerer: reg}); err != nil {
		return fmt.Errorf("apiserver: %w", err)
	}
	patterns := make([]string, 0, len(extra))
	for p := range extra {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	for _, p := range patterns {
		if err := s.Handle(p, extra[p]); err != nil {
			return fmt.Errorf("apiserver: %w", err)
		}
	}
	return httpserve.Run(ctx, cfg.Listen, s.Handler(), "api", log)
}
