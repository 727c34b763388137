package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/useragent"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
)

// Collector serves the tracking endpoints and produces what they receive to Kafka.
type Collector struct {
	cfg      Config
	keys     map[string]*source // write key → its app and limit
	trusted  []netip.Prefix
	topics   bus.Topics // where produce writes (WithTopics)
	producer *kgo.Client
	room     *semaphore.Weighted // events in flight
	plan     PlanChecker         // nil: no tracking plan
	agents   *useragent.Cache    // parsed User-Agents, shared by all requests
	ready    readiness
	log      *slog.Logger
	m        *metrics
}

// agentCacheSize bounds the User-Agents remembered parsed.
const agentCacheSize = 4096

// source is what a write key stands for.
type source struct {
	name    string
	limiter *rate.Limiter // nil: unlimited
}

// New returns a collector producing with producer (see ProducerOpts for the options it expects;
// the caller owns and closes it), logging to log (nil: nowhere) and registering its metrics on
// reg (nil: not registered). It starts no goroutines.
func New(cfg Config, producer *kgo.Client, log *slog.Logger, reg prometheus.Registerer, opts ...Option) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("collector config: %w", err)
	}
	if producer == nil {
		return nil, errors.New("collector: nil producer")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	parsed, _ := parseWriteKeys(cfg.WriteKeys) // Validate checked them
	keys := make(map[string]*source, len(parsed))
	for k, wk := range parsed {
		s := &source{name: wk.source}
		if wk.rate > 0 {
			s.limiter = rate.NewLimiter(rate.Limit(wk.rate), wk.burst)
		}
		keys[k] = s
	}
	trusted, _ := parseTrustedProxies(cfg.TrustedProxies) // Validate checked them
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Collector{
		cfg:      cfg,
		keys:     keys,
		trusted:  trusted,
		producer: producer,
		room:     semaphore.NewWeighted(int64(cfg.MaxInFlight)),
		plan:     o.plan,
		topics:   o.topics,
		agents:   useragent.NewCache(agentCacheSize),
		ready:    readiness{interval: cfg.ReadyInterval},
		log:      log,
		m:        m,
	}, nil
}

// Handler serves POST /v1/batch, /v1/import (an alias of batch), /v1/track, /v1/page,
// /v1/screen, /v1/identify and /v1/alias — and the short paths Segment's analytics.js and mobile
// SDKs post to (/v1/b, /v1/t, /v1/p, /v1/s, /v1/i, /v1/a) — CORS preflights for them, GET /healthz
// (liveness: the process answers) and GET /readyz (readiness: the broker is reachable).
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, typ := range map[string]string{
		"/v1/batch":    "",
		"/v1/import":   "",
		"/v1/track":    event.TypeTrack,
		"/v1/page":     event.TypePage,
		"/v1/screen":   event.TypeScreen,
		"/v1/identify": event.TypeIdentify,
		"/v1/alias":    event.TypeAlias,
		"/v1/b":        "",
		"/v1/t":        event.TypeTrack,
		"/v1/p":        event.TypePage,
		"/v1/s":        event.TypeScreen,
		"/v1/i":        event.TypeIdentify,
		"/v1/a":        event.TypeAlias,
	} {
		h := c.ingest(path, typ)
		mux.Handle("POST "+path, h)
		mux.Handle("POST "+path+"/{$}", h) // Segment's analytics-java posts to /v1/import/
	}
	mux.HandleFunc("OPTIONS /v1/", preflight)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", c.readyz)
	return cors(mux)
}

// cors lets browser SDKs (H5 pages) post from any origin. Write keys are public by design, so
// allowing every origin gives nothing away; credentials (cookies) are not allowed.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			// Browsers hide Retry-After from scripts unless it is exposed; SDKs need it on 429.
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

func preflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
