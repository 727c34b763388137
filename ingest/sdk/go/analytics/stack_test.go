package analytics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// writeKey is the collector's development key.
const writeKey = "citypulse-dev-key"

// stack is the real thing (internal/testenv/stacktest): the collector on the embedded broker,
// the events pipeline and a ClickHouse database of the test's own.
type stack struct {
	*stacktest.Stack
	t *testing.T
}

// newStack starts the stack; mod, when not nil, changes the collector's config.
func newStack(t *testing.T, mod func(*collector.Config)) *stack {
	t.Helper()
	return &stack{Stack: stacktest.Start(t, stacktest.Options{Collector: mod}), t: t}
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

// events reads the events topic from the start: the canonical events the collector wrote.
func (s *stack) events() []event.Event {
	s.t.Helper()
	return stacktest.DecodeTopic[event.Event](s.Stack, bus.EventsTopic)
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

// quietLog discards.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))
