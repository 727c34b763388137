// Package stacktest starts the real data path for a test: the embedded Kafka-protocol broker
// persisting to a temporary directory (or the real Apache Kafka named by CITYPULSE_TEST_KAFKA,
// see testenv.Kafka and realkafka.go), the collector behind an httptest server, the pipeline
// runner, and a fresh migrated ClickHouse database (internal/testenv). It is test support only:
// nothing but _test.go files may import it, and it holds no assertions of its own beyond failing
// the test when a part cannot start. Test binaries that use it must call beam.Init() in TestMain.
package stacktest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/warehouse"
)

// WriteKey is the collector's default development write key.
const WriteKey = "citypulse-dev-key"

// Options adjust the stack; the zero value is the defaults.
type Options struct {
	// Collector changes the collector's config before it starts.
	Collector func(*collector.Config)
	// CollectorOpts are passed to collector.New.
	CollectorOpts []collector.Option
	// Wrap, when set, wraps the collector's handler (e.g. a gate that can refuse requests).
	Wrap func(http.Handler) http.Handler
	// LogLevel of the stack's logs, written to the test log; zero means warnings and errors.
	LogLevel slog.Level
	// Kafka, when set, is the real broker to use (e.g. testenv.KafkaAt for a cluster a fault
	// test owns). Nil means testenv's choice: the real broker named by $CITYPULSE_TEST_KAFKA,
	// else an embedded broker of the test's own.
	Kafka *testenv.KafkaBroker
}

// Stack is a running data path. Its fields are for reading.
type Stack struct {
	Bus       bus.Config
	Warehouse warehouse.Config
	Conn      driver.Conn
	// URL is the collector's base URL; it changes when the broker restarts.
	URL    string
	Runner *pipelines.Runner
	Log    *slog.Logger

	t      *testing.T
	opts   Options
	emb    *bus.Embedded
	realID string // the test's ID on a real broker (testenv.KafkaBroker.ID); "" on the embedded one
	prod   *kgo.Client
	srv    *httptest.Server
}

// Start starts the stack and stops it when the test ends.
func Start(t *testing.T, opts Options) *Stack {
	t.Helper()
	if opts.LogLevel == 0 {
		opts.LogLevel = slog.LevelWarn
	}
	s := &Stack{t: t, opts: opts, Log: Logger(t, opts.LogLevel)}
	s.Warehouse, s.Conn = testenv.Warehouse(t)
	k := opts.Kafka
	if k == nil {
		k, _ = testenv.RealKafka(t)
	}
	if k != nil {
		s.startReal(k)
	} else {
		s.Bus = bus.DefaultConfig()
		s.Bus.Brokers = []string{"127.0.0.1:0"}
		s.Bus.DataDir = t.TempDir()
		s.startBroker()
	}
	s.startCollector()
	runner, err := pipelines.NewRunner(s.pipelineConfig(pipelines.DefaultConfig()), s.Bus, s.Warehouse, s.Log, nil)
	if err != nil {
		s.stop()
		t.Fatal(err)
	}
	s.Runner = runner
	t.Cleanup(func() {
		runner.Close()
		s.stop()
	})
	return s
}

func (s *Stack) startBroker() {
	emb, err := bus.StartEmbedded(s.Bus, s.Log)
	if err != nil {
		s.t.Fatal(err)
	}
	s.emb = emb
	s.Bus.Brokers = emb.Addrs() // a restart reuses the port
}

func (s *Stack) startCollector() {
	prod, err := bus.NewClient(s.Bus, collector.ProducerOpts()...)
	if err != nil {
		s.t.Fatal(err)
	}
	cfg := collector.DefaultConfig()
	if s.opts.Collector != nil {
		s.opts.Collector(&cfg)
	}
	col, err := collector.New(cfg, prod, s.Log, nil, append([]collector.Option{collector.WithTopics(s.Bus.Topics())}, s.opts.CollectorOpts...)...)
	if err != nil {
		prod.Close()
		s.t.Fatal(err)
	}
	var h http.Handler = col.Handler()
	if s.opts.Wrap != nil {
		h = s.opts.Wrap(h)
	}
	s.prod, s.srv = prod, httptest.NewServer(h)
	s.URL = s.srv.URL
}

func (s *Stack) stop() {
	if s.srv != nil {
		s.srv.Close()
		s.prod.Close()
		s.srv = nil
	}
	if s.emb != nil {
		s.emb.Close()
		s.emb = nil
	}
}

// RestartBroker stops the collector and the broker and starts both again on the same data
// directory and port: what was acknowledged must still be there. A real broker is shared with
// other tests and is not restarted: only the collector is.
func (s *Stack) RestartBroker() {
	s.t.Helper()
	s.stop()
	if s.realID == "" {
		s.startBroker()
	} else {
		s.t.Logf("stacktest: the real broker %v is shared and not restarted; the collector is", s.Bus.Brokers)
	}
	s.startCollector()
}

// RunOnce runs the pipelines once over everything unread, failing the test on an error.
func (s *Stack) RunOnce() pipelines.Result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := s.Runner.RunOnce(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// RunOnceWith runs the pipelines once with a runner of its own on cfg (e.g. a fresh consumer
// group, to re-read everything), failing the test on an error.
func (s *Stack) RunOnceWith(cfg pipelines.Config) pipelines.Result {
	s.t.Helper()
	r, err := pipelines.NewRunner(s.pipelineConfig(cfg), s.Bus, s.Warehouse, s.Log, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := r.RunOnce(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// Count runs a query returning one UInt64.
func (s *Stack) Count(query string, args ...any) uint64 {
	s.t.Helper()
	var n uint64
	if err := s.Conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ReadTopic returns every record of the stack's copy of topic, a platform topic name
// (bus.EventsTopic, bus.DLQTopic, bus.FeedsTopic(…)) that the stack reads under its topic prefix
// (s.Bus.TopicPrefix, empty on the embedded broker), from its start: it polls until something arrived and then a poll brings nothing more,
// or 10 s pass.
func (s *Stack) ReadTopic(topic string) []*kgo.Record {
	s.t.Helper()
	cl, err := bus.NewClient(s.Bus, s.consumeFromStart(topic)...)
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		n := 0
		f.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n == 0 && len(out) > 0 {
			break
		}
	}
	return out
}

// DecodeTopic reads topic from its start and decodes every record's JSON value into a T.
func DecodeTopic[T any](s *Stack, topic string) []T {
	s.t.Helper()
	var out []T
	for _, r := range s.ReadTopic(topic) {
		var v T
		if err := json.Unmarshal(r.Value, &v); err != nil {
			s.t.Errorf("record on %s is not JSON: %s", topic, r.Value)
			continue
		}
		out = append(out, v)
	}
	return out
}

// Logger writes slog records at level and above to the test log.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
