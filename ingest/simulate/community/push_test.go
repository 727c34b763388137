package community

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
)

// TestRunPushesThroughGateway registers the simulated sources in a real feeds gateway (SQLite
// metadata store, embedded broker, test ClickHouse) and uploads a small generated city: every
// file's manifest must count exactly the file's rows, all accepted, and ods_feed_records must
// hold them.
func TestRunPushesThroughGateway(t *testing.T) {
	ctx := context.Background()
	_, conn := testenv.Warehouse(t)
	log := slog.New(slog.DiscardHandler)
	busCfg := bus.DefaultConfig()
	busCfg.Brokers, busCfg.DataDir, busCfg.Partitions = []string{"127.0.0.1:0"}, t.TempDir(), 1
	emb, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	busCfg.Brokers, busCfg.Embedded = emb.Addrs(), false
	prod, err := bus.NewClient(busCfg, feeds.ProducerOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	st, err := feeds.NewStore(ctx, metastoretest.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	gcfg := feeds.DefaultConfig()
	gcfg.SpoolDir = t.TempDir()
	gw, err := feeds.New(gcfg, feeds.Deps{Store: st, Producer: prod, Warehouse: conn, Partitions: 1, Log: log, Reg: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := gw.Close(context.Background()); err != nil {
			t.Errorf("close gateway: %v", err)
		}
	})

	cfg := runConfig(t)
	cfg.Scale = 50000 // about 430 people: a quick upload
	secrets, err := RegisterSources(ctx, st, cfg.CityCode)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PushURL, cfg.PushSecrets = srv.URL, SecretItems(secrets)
	sum, err := Run(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var files []FileInfo
	for _, s := range sum.Manifest.Sources {
		files = append(files, s.Files...)
	}
	if len(sum.Pushed) != len(files) {
		t.Fatalf("%d files pushed of %d", len(sum.Pushed), len(files))
	}
	for i, pm := range sum.Pushed {
		f := files[i]
		if pm.Source != f.Source || pm.Dataset != f.Dataset || pm.RowsIn != int64(f.Rows) || pm.RowsAccepted != int64(f.Rows) || pm.RowsRejected != 0 {
			t.Errorf("%s: manifest %+v, file has %d rows", f.Path, pm, f.Rows)
		}
		if f.Encoding == EncodingGBK && pm.Charset != "gb18030" {
			t.Errorf("%s: gateway read it as %q", f.Path, pm.Charset)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM ods_feed_records WHERE batch_id = ?", pm.BatchID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != uint64(f.Rows) {
			t.Errorf("%s: %d raw rows stored, want %d", f.Path, n, f.Rows)
		}
	}
}
