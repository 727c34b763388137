package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/httpserve"
)

// Collector serves the tracking endpoints and produces what they receive to Kafka.
type Collector struct {
	cfg      Config
	keys     map[string]string // write key → source
	producer *kgo.Client
	room     *semaphore.Weighted // events in flight
	log      *slog.Logger
	m        *metrics
}

// New returns a collector producing with producer (see ProducerOpts for the options it expects;
// the caller owns and closes it), logging to log (nil: nowhere) and registering its metrics on
// reg (nil: not registered).
func New(cfg Config, producer *kgo.Client, log *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("collector config: %w", err)
	}
	if producer == nil {
		return nil, errors.New("collector: nil producer")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	keys, _ := parseWriteKeys(cfg.WriteKeys) // Validate checked them
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Collector{
		cfg:      cfg,
		keys:     keys,
		producer: producer,
		room:     semaphore.NewWeighted(int64(cfg.MaxInFlight)),
		log:      log,
		m:        m,
	}, nil
}

// Handler serves POST /v1/batch, /v1/import (an alias of batch), /v1/track, /v1/page,
// /v1/screen and /v1/identify, CORS preflights for them, and GET /healthz.
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, typ := range map[string]string{
		"/v1/batch":    "",
		"/v1/import":   "",
		"/v1/track":    event.TypeTrack,
		"/v1/page":     event.TypePage,
		"/v1/screen":   event.TypeScreen,
		"/v1/identify": event.TypeIdentify,
	} {
		mux.Handle("POST "+path, c.ingest(path, typ))
	}
	mux.HandleFunc("OPTIONS /v1/", preflight)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return cors(mux)
}

// cors lets browser SDKs (H5 pages) post from any origin. Write keys are public by design, so
// allowing every origin gives nothing away; credentials (cookies) are not allowed.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
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
