package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/internal/metastore"
)

// Tracking is the tracking plan as the servers use it: the store in the metadata database, the
// hot-reloading watcher the collector checks events with, and the management API.
type Tracking struct {
	Store   *plan.Store
	Watcher *plan.Watcher
}

// OpenTracking prepares the plan's tables in the metadata store, applies planFile when it is set
// (a new version only when the content changed), and loads the active plan.
func OpenTracking(ctx context.Context, ms *metastore.Store, planCfg plan.Config, planFile string, log *slog.Logger, reg prometheus.Registerer) (*Tracking, error) {
	t := &Tracking{}
	var err error
	if t.Store, err = plan.NewStore(ctx, ms); err != nil {
		return nil, err
	}
	if planFile != "" {
		res, err := plan.ApplyFile(ctx, t.Store, planFile, "citypulse")
		if err != nil {
			return nil, fmt.Errorf("apply tracking plan %s: %w", planFile, err)
		}
		log.Info("tracking plan file applied", "file", planFile, "version", res.Version, "changed", res.Changed)
	}
	if t.Watcher, err = plan.NewWatcher(t.Store, planCfg, log, reg); err != nil {
		return nil, err
	}
	if err := t.Watcher.Load(ctx); err != nil {
		return nil, fmt.Errorf("load the tracking plan: %w", err)
	}
	return t, nil
}

// Checker is the collector's view of the watcher.
func (t *Tracking) Checker() collector.PlanChecker { return planChecker{t.Watcher} }

// Handler is the plan management API, mounted at plan.APIPath.
func (t *Tracking) Handler(log *slog.Logger) http.Handler { return plan.Handler(t.Store, log) }

// Mount adds the management API to a mux-like Handle function.
func (t *Tracking) Mount(handle func(pattern string, h http.Handler) error, log *slog.Logger) error {
	h := t.Handler(log)
	if err := handle(plan.APIPath, h); err != nil {
		return err
	}
	return handle(plan.APIPath+"/", h)
}

type planChecker struct{ w *plan.Watcher }

func (p planChecker) Check(source string, e *event.Event) collector.PlanVerdict {
	rej, flags := p.w.Check(source, e)
	return collector.PlanVerdict{Reject: rej, Flags: flags}
}
