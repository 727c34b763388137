package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/warehouse"
)

// Run is the standalone `citypulse feeds`: it opens the feeds tables in ms (migrating them), a
// producer on busCfg's brokers and a ClickHouse connection on whCfg (whose schema `citypulse
// migrate` applied), and serves cfg.Listen until ctx ends; then it flushes and closes all.
func Run(ctx context.Context, cfg Config, busCfg bus.Config, whCfg warehouse.Config, ms *metastore.Store, log *slog.Logger, reg prometheus.Registerer) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	if err := busCfg.Validate(); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	st, err := NewStore(ctx, ms, WithSecrets(cfg.Secrets))
	if err != nil {
		return err
	}
	if !st.Encrypted() {
		log.Warn("feeds: sources' HMAC secrets are stored in clear in the metadata store; set feeds-secrets-key to encrypt them")
	}
	conn, err := warehouse.Open(ctx, whCfg)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	defer conn.Close()
	cl, err := bus.NewClient(busCfg, ProducerOpts()...)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	defer cl.Close()
	g, err := New(cfg, Deps{Store: st, Producer: cl, Warehouse: conn, Partitions: busCfg.Partitions, Topics: busCfg.Topics(), Log: log, Reg: reg,
		WarehouseMetrics: warehouse.NewMetrics(reg)})
	if err != nil {
		return err
	}
	serveErr := httpserve.Run(ctx, cfg.Listen, g.Handler(), "feeds", log)
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.Close(cctx); err != nil && serveErr == nil {
		return fmt.Errorf("feeds: flush ods_feed_records on stop: %w", err)
	}
	return serveErr
}
