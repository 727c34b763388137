package warehouse

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the BatchWriters' Prometheus metrics, labelled by table. One Metrics serves any
// number of writers; a nil *Metrics records nothing.
type Metrics struct {
	rows, batches, retries, failures, rejected *prometheus.CounterVec
	buffered                                   *prometheus.GaugeVec
	flushSeconds                               *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them on reg (none when reg is nil). Metrics already
// registered there by an earlier call are reused. Any other registration error is a name clash in
// the program and panics, as promauto does.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_warehouse_" + name, Help: help}, []string{"table"}))
	}
	return &Metrics{
		rows:     counter("rows_written_total", "Rows the server accepted from batch writers."),
		batches:  counter("batches_total", "Inserts the server accepted from batch writers."),
		retries:  counter("insert_retries_total", "Failed inserts that were retried."),
		failures: counter("flush_failures_total", "Flushes that gave up after their retries; their rows stay buffered."),
		rejected: counter("rows_rejected_total", "Rows refused by the column types and handed to OnReject or logged."),
		buffered: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "citypulse_warehouse_buffered_rows", Help: "Rows buffered and not yet accepted by the server.",
		}, []string{"table"})),
		flushSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citypulse_warehouse_flush_seconds",
			Help:    "Time of a successful flush, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"table"})),
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if r, ok := reg.(*prometheus.Registry); reg == nil || ok && r == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("warehouse metrics: %v", err))
	}
	return c
}

// tableMetrics are one table's children; a nil *tableMetrics records nothing.
type tableMetrics struct {
	rows, batches, retries, failures, rejectedRows prometheus.Counter
	buffered                                       prometheus.Gauge
	flushSeconds                                   prometheus.Observer
}

func (m *Metrics) forTable(table string) *tableMetrics {
	if m == nil {
		return nil
	}
	return &tableMetrics{
		rows:         m.rows.WithLabelValues(table),
		batches:      m.batches.WithLabelValues(table),
		retries:      m.retries.WithLabelValues(table),
		failures:     m.failures.WithLabelValues(table),
		rejectedRows: m.rejected.WithLabelValues(table),
		buffered:     m.buffered.WithLabelValues(table),
		flushSeconds: m.flushSeconds.WithLabelValues(table),
	}
}

func (t *tableMetrics) sent(rows int, took time.Duration, buffered int) {
	if t == nil {
		return
	}
	if rows > 0 {
		t.rows.Add(float64(rows))
		t.batches.Inc()
		t.flushSeconds.Observe(took.Seconds())
	}
	t.buffered.Set(float64(buffered))
}

func (t *tableMetrics) retried() {
	if t != nil {
		t.retries.Inc()
	}
}

func (t *tableMetrics) failed(buffered int) {
	if t != nil {
		t.failures.Inc()
		t.buffered.Set(float64(buffered))
	}
}

func (t *tableMetrics) rejected(n int) {
	if t != nil {
		t.rejectedRows.Add(float64(n))
	}
}

func (t *tableMetrics) setBuffered(n int) {
	if t != nil {
		t.buffered.Set(float64(n))
	}
}
