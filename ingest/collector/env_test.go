package collector

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

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
)

const (
	devKey    = "citypulse-dev-key"
	devSource = "citypulse-app"
)

// env is a collector behind httptest on the test's broker (testenv.Kafka: an embedded broker of
// its own, or the real one $CITYPULSE_TEST_KAFKA names), writing to topics of its own
// (testenv.KafkaBroker.PrefixedBus, WithTopics), so that tests sharing a real broker never read
// each other's records.
type env struct {
	k      *testenv.KafkaBroker
	busCfg bus.Config // with the env's topic prefix
	prod   *kgo.Client
	c      *Collector
	srv    *httptest.Server
	reg    *prometheus.Registry
}

func testLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv starts a collector on the test's broker (see env).
func newEnv(t *testing.T, mod func(*Config), opts ...Option) *env {
	t.Helper()
	return newEnvOn(t, testenv.Kafka(t), mod, opts...)
}

// newEmbeddedEnv starts a collector on an embedded broker of its own, whatever
// $CITYPULSE_TEST_KAFKA says, for tests that stop or script the broker (env.broker).
func newEmbeddedEnv(t *testing.T, mod func(*Config), opts ...Option) *env {
	t.Helper()
	return newEnvOn(t, testenv.EmbeddedKafka(t), mod, opts...)
}

func newEnvOn(t *testing.T, k *testenv.KafkaBroker, mod func(*Config), opts ...Option) *env {
	t.Helper()
	k.Bus.Partitions = 2
	busCfg := k.PrefixedBus()
	prod, err := bus.NewClient(busCfg, ProducerOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	cfg := DefaultConfig()
	cfg.WriteKeys = append(cfg.WriteKeys, "other-key=other-app")
	if mod != nil {
		mod(&cfg)
	}
	reg := prometheus.NewRegistry()
	c, err := New(cfg, prod, testLog(), reg, append([]Option{WithTopics(busCfg.Topics())}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return &env{k: k, busCfg: busCfg, prod: prod, c: c, srv: srv, reg: reg}
}

// broker is the env's embedded broker (newEmbeddedEnv); nil on a real one.
func (e *env) broker() *bus.Embedded { return e.k.Embedded }

// post sends body to path with the write key as Basic username ("" for none) and extra headers.
func (e *env) post(t *testing.T, path, key string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := postTo(e.srv.Client(), e.srv.URL+path, key, body, headers...)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp, b
}

// postTo is post without a *testing.T, for goroutines.
func postTo(cl *http.Client, url, key string, body []byte, headers ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// consume reads the first n records of the env's copy of topic (a platform name such as
// bus.EventsTopic, under the env's topic prefix) from its start.
func (e *env) consume(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := bus.NewClient(e.busCfg, kgo.ConsumeTopics(e.busCfg.TopicPrefix+topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: got %d of %d records: %v", topic, len(recs), n, ctx.Err())
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// okBody is the 200 answer.
type okBody struct {
	Success  bool `json:"success"`
	Accepted int  `json:"accepted"`
	Rejected []struct {
		Index     int    `json:"index"`
		MessageID string `json:"messageId"`
		Field     string `json:"field"`
		Reason    string `json:"reason"`
	} `json:"rejected"`
}

type errBody struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// counterValue reads one counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
