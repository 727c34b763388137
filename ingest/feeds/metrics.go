package feeds

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec // by outcome
	rows     *prometheus.CounterVec // by dataset, result (accepted|rejected)
	bytes    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_feeds_requests_total",
			Help: "Feed requests by outcome (ok, unauthenticated, forbidden, bad_request, failed)."}, []string{"outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_feeds_rows_total",
			Help: "Feed rows by dataset and result (accepted, rejected)."}, []string{"dataset", "result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "citypulse_feeds_received_bytes_total",
			Help: "Request body bytes received, as sent."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.rows, m.bytes} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err) // a name clash in the program, as promauto does
				}
			}
		}
	}
	return m
}
