package feeds

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
)

// TestRun runs the standalone gateway on a real listener, broker, ClickHouse and metadata store,
// pushes one signed batch and stops it.
func TestRun(t *testing.T) {
	whCfg, conn := testenv.Warehouse(t)
	busCfg := bus.DefaultConfig()
	busCfg.Brokers = []string{"127.0.0.1:0"}
	busCfg.DataDir = t.TempDir()
	emb, err := bus.StartEmbedded(busCfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	busCfg.Brokers, busCfg.Embedded = emb.Addrs(), false
	ms := metastoretest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := NewStore(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Register(ctx, shebao()); err != nil {
		t.Fatal(err)
	}
	key, err := st.AddKey(ctx, "shebao")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Listen = ln.Addr().String()
	ln.Close()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, busCfg, whCfg, ms, testLog(t), prometheus.NewRegistry()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + cfg.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway never came up: %v", err)
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run ended early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	body := "{\"姓名\":\"张三\"}\n"
	req, _ := http.NewRequest("POST", "http://"+cfg.Listen+"/v1/feeds/person", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	signature.Sign(req, "shebao", key.Secret, signature.BodySHA256([]byte(body)), time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM ods_feed_records").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.Listen = "8082" }, "feeds-listen"},
		{func(c *Config) { c.MaxBodyBytes = 0 }, "feeds-max-body-bytes"},
		{func(c *Config) { c.MaxRowBytes = 0 }, "feeds-max-row-bytes"},
		{func(c *Config) { c.ReplayWindow = 2 * time.Hour }, "feeds-replay-window"},
		{func(c *Config) { c.NonceCacheSize = 0 }, "feeds-nonce-cache-size"},
		{func(c *Config) { c.MaxRejections = -1 }, "feeds-max-rejections"},
		{func(c *Config) { c.ODSMaxRows = 0 }, "feeds-ods-max-rows"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v, want %s…", err, tc.want)
		}
	}
}

func TestBatchID(t *testing.T) {
	now := time.Unix(1_767_225_600, 0)
	a, b := newBatchID(now), newBatchID(now.Add(time.Millisecond))
	if len(a) != 26 || a == b || a >= b || a[:10] != "01KDVDNA00" {
		t.Fatalf("ids %s %s", a, b)
	}
}
