package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/ingest/feeds/signature"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
)

// env is a gateway on a real embedded broker, a real ClickHouse and a SQLite metadata store,
// with source "shebao" registered and keyed.
type env struct {
	t      *testing.T
	busCfg bus.Config
	conn   driver.Conn
	store  *Store
	gw     *Gateway
	srv    *httptest.Server
	secret []byte
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	_, conn := testenv.Warehouse(t)
	busCfg := bus.DefaultConfig()
	busCfg.Brokers = []string{"127.0.0.1:0"}
	busCfg.DataDir = t.TempDir()
	busCfg.Partitions = 2
	emb, err := bus.StartEmbedded(busCfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	busCfg.Brokers, busCfg.Embedded = emb.Addrs(), false
	prod, err := bus.NewClient(busCfg, ProducerOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	st, err := NewStore(ctx, metastoretest.SQLite(t))
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
	cfg := DefaultConfig()
	cfg.SpoolDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	gw, err := New(cfg, Deps{Store: st, Producer: prod, Warehouse: conn, Partitions: 2, Log: testLog(t), Reg: prometheus.NewRegistry()})
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
	return &env{t: t, busCfg: busCfg, conn: conn, store: st, gw: gw, srv: srv, secret: key.Secret}
}

// request is a signed request (unless edit spoils it) of body to path.
func (e *env) request(method, path string, body []byte, header http.Header) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	signature.Sign(req, "shebao", e.secret, signature.BodySHA256(body), time.Now())
	return req
}

type errorBody struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// do sends req and returns the status and either the manifest or the error body.
func (e *env) do(req *http.Request) (int, Manifest, errorBody) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m Manifest
	var eb errorBody
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("answer %s: %v", b, err)
		}
	} else if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Message == "" {
		_ = json.Unmarshal(b, &m) // a failed batch answers its manifest
	}
	return resp.StatusCode, m, eb
}

// consume reads the dataset's topic from the start until n records arrived.
func (e *env) consume(dataset string, n int) []feedrecord.Record {
	e.t.Helper()
	cl, err := bus.NewClient(e.busCfg, kgo.ConsumeTopics(bus.FeedsTopic(dataset)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []feedrecord.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("%d of %d records on %s", len(out), n, bus.FeedsTopic(dataset))
		}
		fs.EachRecord(func(r *kgo.Record) {
			var fr feedrecord.Record
			if err := json.Unmarshal(r.Value, &fr); err != nil {
				e.t.Fatalf("record %s: %v", r.Value, err)
			}
			out = append(out, fr)
		})
	}
	return out
}

func (e *env) count(query string, args ...any) uint64 {
	e.t.Helper()
	var n uint64
	if err := e.conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}
