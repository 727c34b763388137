package community

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/ingest/feeds"
	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
	"github.com/citypulse/citypulse/pipelines"
)

// gateway is a real feeds gateway (SQLite metadata store, the stack's broker and warehouse)
// behind an httptest server.
type gateway struct {
	Store *feeds.Store
	URL   string
	// secrets of the registered sources, by source id.
	secrets map[string][]byte
}

// startGateway starts a feeds gateway producing to busCfg's broker and writing ods rows through
// conn; it stops when the test ends.
func startGateway(tb testing.TB, busCfg bus.Config, conn driver.Conn) *gateway {
	tb.Helper()
	ctx := context.Background()
	prod, err := bus.NewClient(busCfg, feeds.ProducerOpts()...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(prod.Close)
	st, err := feeds.NewStore(ctx, metastoretest.SQLite(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := feeds.DefaultConfig()
	cfg.SpoolDir = tb.TempDir()
	gw, err := feeds.New(cfg, feeds.Deps{Store: st, Producer: prod, Warehouse: conn, Partitions: max(busCfg.Partitions, 1),
		Log: stacktest.Logger(tb, slog.LevelWarn), Reg: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	tb.Cleanup(func() {
		srv.Close()
		if err := gw.Close(context.Background()); err != nil {
			tb.Errorf("close gateway: %v", err)
		}
	})
	return &gateway{Store: st, URL: srv.URL, secrets: map[string][]byte{}}
}

// register registers (or replaces) a source and issues it a key.
func (g *gateway) register(tb testing.TB, src feeds.Source) {
	tb.Helper()
	ctx := context.Background()
	if err := g.Store.Register(ctx, src); err != nil {
		tb.Fatalf("register %s: %v", src.ID, err)
	}
	k, err := g.Store.AddKey(ctx, src.ID)
	if err != nil {
		tb.Fatalf("key %s: %v", src.ID, err)
	}
	g.secrets[src.ID] = k.Secret
}

// registerSimulated registers the simulator's four sources.
func (g *gateway) registerSimulated(tb testing.TB, city string) {
	tb.Helper()
	secrets, err := sim.RegisterSources(context.Background(), g.Store, city)
	if err != nil {
		tb.Fatal(err)
	}
	for id, s := range secrets {
		g.secrets[id] = s
	}
}

// push uploads a file as source and checks that the gateway accepted every one of its rows.
func (g *gateway) push(tb testing.TB, source, dataset, path, format string, rows int) feeds.Manifest {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	m, err := feeds.PushFile(ctx, nil, g.URL, source, g.secrets[source], dataset, path, format)
	if err != nil {
		tb.Fatal(err)
	}
	if rows >= 0 && (m.RowsIn != int64(rows) || m.RowsAccepted != int64(rows) || m.RowsRejected != 0) {
		tb.Fatalf("push %s: gateway read %d rows, accepted %d, rejected %d (%v); the file has %d", path, m.RowsIn, m.RowsAccepted, m.RowsRejected, m.Rejections, rows)
	}
	return m
}

// city is a generated city: its files (Run) and the same records in memory (Generate).
type city struct {
	cfg   sim.Config
	sum   sim.Summary
	mem   *sim.Result
	truth []sim.Defect // ground_truth.jsonl as Run wrote it
}

// generateCity writes cfg's city with Run, reads its ground truth back and generates the same
// records in memory (the clean values the test compares the warehouse with).
func generateCity(tb testing.TB, cfg sim.Config) *city {
	tb.Helper()
	sum, err := sim.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	mem, err := sim.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	truth := readTruth(tb, filepath.Join(cfg.Dir, sum.Manifest.GroundTruth))
	if len(truth) != len(mem.Defects) {
		tb.Fatalf("ground truth has %d lines, Generate planted %d", len(truth), len(mem.Defects))
	}
	return &city{cfg: cfg, sum: sum, mem: mem, truth: truth}
}

// files are the city's files with department sources first and the community office last, so
// that a community record and the police's re-sent copy of it collapse into the community
// record (the newer receive time wins), which keeps the community rows scorable.
func (c *city) files() []sim.FileInfo {
	var dept, comm []sim.FileInfo
	for _, s := range c.sum.Manifest.Sources {
		if s.ID == sim.SourceCommunity {
			comm = append(comm, s.Files...)
		} else {
			dept = append(dept, s.Files...)
		}
	}
	return append(dept, comm...)
}

// pushAll uploads every file of the city and returns the batches by id.
func (c *city) pushAll(tb testing.TB, g *gateway) map[string]sim.FileInfo {
	tb.Helper()
	batches := map[string]sim.FileInfo{}
	for _, f := range c.files() {
		m := g.push(tb, f.Source, f.Dataset, filepath.Join(c.cfg.Dir, f.Path), f.Format, f.Rows)
		if f.Encoding == sim.EncodingGBK && m.Charset != "gb18030" {
			tb.Errorf("%s: the gateway read it as %q, want gb18030", f.Path, m.Charset)
		}
		batches[m.BatchID] = f
	}
	return batches
}

// runOnce runs every pipeline once over what is unread and fails the test on an error.
func runOnce(tb testing.TB, r *pipelines.Runner) pipelines.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := r.RunOnce(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}
