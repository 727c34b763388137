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

	rateLimited *prometheus.CounterVec // source
	flagged     *prometheus.CounterVec // flag
	ready       prometheus.Gauge
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
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_collector_events_rate_limited_total",
			Help: "Events refused with 429 because their write key was over its rate limit, by source.",
		}, []string{"source"}),
		flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_collector_events_plan_flagged_total",
			Help: "Tracking-plan flags put on accepted events, by flag.",
		}, []string{"flag"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citypulse_collector_broker_ready",
			Help: "1 when the last /readyz check reached a Kafka broker, else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.accepted, m.rejected, m.requests, m.produce, m.inFlight, m.bodyBytes, m.rateLimited, m.flagged, m.ready} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register collector metrics: %w", err)
		}
	}
	return m, nil
}
