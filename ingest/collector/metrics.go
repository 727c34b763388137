package collector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	accepted  *prometheus.CounterVec   // source
	rejected  *prometheus.CounterVec   // field, reason
	requests  *prometheus.CounterVec   // path, status
	produce   *prometheus.HistogramVec // outcome
	inFlight  prometheus.Gauge
	bodyBytes prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_collector_events_accepted_total",
			Help: "Events acknowledged by Kafka on the events topic, by source.",
		}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_collector_events_rejected_total",
			Help: "Events that failed validation and were acknowledged on the dead-letter topic, by field and reason code.",
		}, []string{"field", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_collector_requests_total",
			Help: "HTTP requests answered, by path and status code.",
		}, []string{"path", "status"}),
		produce: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citypulse_collector_produce_duration_seconds",
			Help:    "Time from producing a request's records to Kafka acknowledging all of them (or giving up), by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15), // 1 ms … 16 s
		}, []string{"outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citypulse_collector_in_flight_events",
			Help: "Events being produced to Kafka and not yet acknowledged or failed.",
		}),
		bodyBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "citypulse_collector_request_body_bytes",
			Help:    "Size of request bodies read, after decompression.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 8), // 256 B … 4 MiB
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.accepted, m.rejected, m.requests, m.produce, m.inFlight, m.bodyBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register collector metrics: %w", err)
		}
	}
	return m, nil
}
