package analytics_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// writeKey is the collector's development key.
const writeKey = "citypulse-dev-key"

// stack is the real thing: the collector on the embedded broker, the events pipeline and a
// ClickHouse database of the test's own.
type stack struct {
	t      *testing.T
	url    string // the collector's base URL
	bus    bus.Config
	conn   driver.Conn
	runner *pipelines.Runner
}

// newStack starts the stack; mod, when not nil, changes the collector's config.
func newStack(t *testing.T, mod func(*collector.Config)) *stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	whCfg, conn := testenv.Warehouse(t)
	cfg := collector.DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	url, busCfg, stop, err := startCollector(cfg, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := pipelines.NewRunner(pipelines.DefaultConfig(), busCfg, whCfg, log, nil)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		runner.Close()
		stop()
	})
	return &stack{t: t, url: url, bus: busCfg, conn: conn, runner: runner}
}

// startCollector runs the embedded broker persisting to dir and the collector on an
// httptest server in front of it.
func startCollector(cfg collector.Config, dir string, log *slog.Logger) (url string, busCfg bus.Config, stop func(), err error) {
	busCfg = bus.DefaultConfig()
	busCfg.Brokers = []string{"127.0.0.1:0"}
	busCfg.DataDir = dir
	emb, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		return "", busCfg, nil, err
	}
	busCfg.Brokers = emb.Addrs()
	prod, err := bus.NewClient(busCfg, collector.ProducerOpts()...)
	if err != nil {
		emb.Close()
		return "", busCfg, nil, err
	}
	col, err := collector.New(cfg, prod, log, nil)
	if err != nil {
		prod.Close()
		emb.Close()
		return "", busCfg, nil, err
	}
	srv := httptest.NewServer(col.Handler())
	return srv.URL, busCfg, func() { srv.Close(); prod.Close(); emb.Close() }, nil
}

// runOnce runs the events pipeline over everything produced so far.
func (s *stack) runOnce() pipelines.Result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := s.runner.RunOnce(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// events reads the events topic from the start: the canonical events the collector wrote.
func (s *stack) events() []event.Event {
	s.t.Helper()
	cl, err := bus.NewClient(s.bus, kgo.ConsumeTopics(bus.EventsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	var out []event.Event
	for range 20 { // until a poll brings nothing more after something came
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		n := 0
		f.EachRecord(func(r *kgo.Record) {
			var e event.Event
			if err := json.Unmarshal(r.Value, &e); err != nil {
				s.t.Errorf("event is not JSON: %s", r.Value)
			}
			out = append(out, e)
			n++
		})
		if n == 0 && len(out) > 0 {
			break
		}
	}
	return out
}

func (s *stack) count(query string, args ...any) uint64 {
	s.t.Helper()
	var n uint64
	if err := s.conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// closeClient closes c, failing the test when it could not deliver everything in time.
type closer interface{ Close(context.Context) error }

func closeClient(t *testing.T, c closer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// quietLog discards.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))
