package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/warehouse"
)

// Optional request headers (besides the signature's).
const (
	HeaderFilename        = "X-CityPulse-Filename"
	HeaderFormat          = "X-CityPulse-Format"
	HeaderStandardVersion = "X-CityPulse-Standard-Version"
)

// Deps are what a Gateway works with; the caller owns and closes them.
type Deps struct {
	Store *Store
	// Producer sends the records; it must require acknowledgement from all in-sync replicas
	// (ProducerOpts).
	Producer *kgo.Client
	// Warehouse is a connection to the database holding ods_feed_records and ods_feed_batches.
	Warehouse driver.Conn
	// Partitions of the feed topics the gateway creates when missing.
	Partitions int
	// Topics names the feed topics (bus.Config.Topics: under the installation's topic prefix);
	// the zero value gives citypulse.feeds.<dataset>.v1.
	Topics bus.Topics
	Log    *slog.Logger
	Reg    prometheus.Registerer
	// WarehouseMetrics, when set, instruments the ods_feed_records writer.
	WarehouseMetrics *warehouse.Metrics
}

// ProducerOpts are the franz-go options of the gateway's producer: acknowledgement by all
// in-sync replicas (a batch is answered only after that), idempotent by default, and at most
// 16 MiB of records waiting for the broker (Produce then blocks: the upload slows down instead
// of the heap growing).
func ProducerOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.ClientID("citypulse-feeds"),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.MaxBufferedBytes(16 << 20),
	}
}

// Gateway is the feeds HTTP API. Make one with New; Close it after its server stopped.
type Gateway struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	m      *metrics
	ods    *warehouse.BatchWriter
	nonces *signature.NonceCache
	prog   *progress
	now    func() time.Time

	topics  sync.Map // topic → struct{}: ensured to exist
	checks  atomic.Int64
	purging sync.Mutex
}

// New checks cfg and deps and starts the ods_feed_records writer.
func New(cfg Config, deps Deps) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	if deps.Store == nil || deps.Producer == nil || deps.Warehouse == nil {
		return nil, errors.New("feeds: Store, Producer and Warehouse are required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	deps.Partitions = max(deps.Partitions, 1)
	ods, err := warehouse.NewBatchWriter(deps.Warehouse, warehouse.BatchConfig{
		Table:   "ods_feed_records",
		Columns: []string{"received_date", "received_at", "batch_id", "source", "dataset", "row_no", "raw"},
		MaxRows: cfg.ODSMaxRows,
	}, deps.WarehouseMetrics, deps.Log)
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	return &Gateway{
		cfg: cfg, deps: deps, log: deps.Log, m: newMetrics(deps.Reg), ods: ods,
		nonces: signature.NewNonceCache(cfg.NonceCacheSize, cfg.ReplayWindow),
		prog:   newProgress(1000),
		now:    time.Now,
	}, nil
}

// Close flushes and stops the ods_feed_records writer.
func (g *Gateway) Close(ctx context.Context) error { return g.ods.Close(ctx) }

// Handler serves:
//
//	POST /v1/feeds/{dataset}          signed push: CSV (text/csv) or JSON lines (application/x-ndjson)
//	POST /v1/feeds/{dataset}/files    signed file upload: CSV, JSON lines, Parquet, Arrow; raw or multipart
//	GET  /v1/feeds/batches/{id}       signed (empty body): the manifest of a running or recently finished batch of the caller
//	/v1/admin/...                     operators' API (bearer feeds-admin-token): sources, keys, usage log; see adminHandler
//	GET  /healthz                     liveness
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/feeds/{dataset}", func(w http.ResponseWriter, r *http.Request) { g.serveBatch(w, r, kindPush) })
	mux.HandleFunc("POST /v1/feeds/{dataset}/files", func(w http.ResponseWriter, r *http.Request) { g.serveBatch(w, r, kindUpload) })
	mux.HandleFunc("GET /v1/feeds/batches/{id}", g.serveProgress)
	mux.Handle("/v1/admin/", g.adminHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

const (
	kindPush   = "push"
	kindUpload = "upload"
)

// reqError is an answer other than 200: status, the field or header at fault, and why.
type reqError struct {
	status  int
	field   string
	message string
	outcome string
}

func (e *reqError) Error() string { return e.field + ": " + e.message }

func unauthenticated(err error) *reqError {
	var se *signature.Error
	if errors.As(err, &se) {
		return &reqError{http.StatusUnauthorized, se.Header, se.Reason, "unauthenticated"}
	}
	return &reqError{http.StatusUnauthorized, "", err.Error(), "unauthenticated"}
}

func (g *Gateway) fail(w http.ResponseWriter, e *reqError) {
	g.m.requests.WithLabelValues(e.outcome).Inc()
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", signature.Algorithm)
	}
	httpserve.WriteError(w, e.status, e.field, e.message)
}

// authenticate checks the signature headers and the source before the body is read: form,
// time, that the source exists and has a key. The signature itself needs the body's digest.
func (g *Gateway) authenticate(ctx context.Context, r *http.Request) (signature.Params, Source, [][]byte, *reqError) {
	p, err := signature.Parse(r.Header)
	if err != nil {
		return p, Source{}, nil, unauthenticated(err)
	}
	if err := signature.CheckTime(p, g.now(), g.cfg.ReplayWindow); err != nil {
		return p, Source{}, nil, unauthenticated(err)
	}
	src, err := g.deps.Store.Source(ctx, p.Source)
	if errors.Is(err, ErrNoSource) {
		return p, Source{}, nil, &reqError{http.StatusUnauthorized, signature.HeaderSource, fmt.Sprintf("unknown source %q", p.Source), "unauthenticated"}
	}
	if err != nil {
		return p, Source{}, nil, g.internal("read source", err)
	}
	keys, err := g.deps.Store.ActiveKeys(ctx, p.Source)
	if err != nil {
		return p, Source{}, nil, g.internal("read keys", err)
	}
	if len(keys) == 0 {
		return p, Source{}, nil, &reqError{http.StatusUnauthorized, signature.HeaderSource, fmt.Sprintf("source %q has no active key", p.Source), "unauthenticated"}
	}
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		secrets[i] = k.Secret
	}
	return p, src, secrets, nil
}

// verify checks the signature over the body's digest, then that the nonce is fresh.
func (g *Gateway) verify(ctx context.Context, r *http.Request, p signature.Params, secrets [][]byte, bodySHA string) *reqError {
	if _, err := signature.Verify(p, r.Method, r.URL.EscapedPath(), r.Header, bodySHA, secrets); err != nil {
		return unauthenticated(err)
	}
	if err := g.nonces.Check(p, g.now()); err != nil {
		return unauthenticated(err)
	}
	if g.cfg.SharedNonces {
		if err := g.deps.Store.CheckNonce(ctx, p); err != nil {
			var se *signature.Error
			if errors.As(err, &se) {
				return unauthenticated(err)
			}
			return g.internal("record nonce", err)
		}
		if g.checks.Add(1)%256 == 0 {
			g.purgeNonces(ctx)
		}
	}
	return nil
}

func (g *Gateway) purgeNonces(ctx context.Context) {
	if !g.purging.TryLock() {
		return
	}
	defer g.purging.Unlock()
	if _, err := g.deps.Store.PurgeNonces(ctx, g.now().Add(-2*g.cfg.ReplayWindow)); err != nil {
		g.log.Warn("feeds: purge nonces", "err", err)
	}
}

func (g *Gateway) internal(what string, err error) *reqError {
	g.log.Error("feeds: "+what, "err", err)
	return &reqError{http.StatusServiceUnavailable, "", what + " failed; try again later", "failed"}
}

// serveProgress answers the manifest of one of the caller's batches.
func (g *Gateway) serveProgress(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, _, secrets, rerr := g.authenticate(ctx, r)
	if rerr == nil {
		rerr = g.verify(ctx, r, p, secrets, signature.BodySHA256(nil))
	}
	if rerr != nil {
		g.fail(w, rerr)
		return
	}
	b, ok := g.prog.get(r.PathValue("id"))
	if !ok || b.snapshot().Source != p.Source {
		g.fail(w, &reqError{http.StatusNotFound, "id", "no running or recent batch with this id for this source", "bad_request"})
		return
	}
	g.m.requests.WithLabelValues("ok").Inc()
	httpserve.WriteJSON(w, http.StatusOK, b.snapshot())
}

// ensureTopic creates the dataset's topic once per process.
func (g *Gateway) ensureTopic(ctx context.Context, topic string) {
	if _, done := g.topics.Load(topic); done {
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(tctx, g.deps.Producer, g.deps.Partitions, topic); err != nil {
		g.log.Warn("feeds: could not ensure topic; producing anyway", "topic", topic, "err", err)
		return
	}
	g.topics.Store(topic, struct{}{})
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
