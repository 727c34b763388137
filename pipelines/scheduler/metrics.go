package scheduler

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	runs      *prometheus.CounterVec   // finished runs by job and final state
	attempts  *prometheus.CounterVec   // attempts by job and outcome
	enqueued  *prometheus.CounterVec   // runs created by job and trigger
	duration  *prometheus.HistogramVec // attempt duration by job
	takeovers *prometheus.CounterVec   // runs taken over from an instance whose lease expired
	cancelled *prometheus.CounterVec   // runs that ended cancelled, by job
	running   prometheus.Gauge         // attempts this instance is executing
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_scheduler_runs_total",
			Help: "Job runs that ended, by job and final state (succeeded, failed, skipped, cancelled), counted by the instance that ended them."}, []string{"job", "state"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_scheduler_attempts_total",
			Help: "Attempts of job runs executed by this instance, by job and outcome (succeeded, failed, interrupted, lease_lost)."}, []string{"job", "outcome"}),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_scheduler_runs_enqueued_total",
			Help: "Job runs created, by job and trigger (schedule, catch-up, manual, backfill)."}, []string{"job", "trigger"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "citypulse_scheduler_run_duration_seconds",
			Help: "Duration of job run attempts executed by this instance, by job.", Buckets: prometheus.ExponentialBuckets(0.1, 4, 10)}, []string{"job"}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_scheduler_lease_takeovers_total",
			Help: "Runs this instance took over because the holder's lease expired (a crashed or stalled instance), by job."}, []string{"job"}),
		cancelled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "citypulse_scheduler_runs_cancelled_total",
			Help: "Job runs that ended cancelled (by a person, or with the upstream run they waited for), by job, counted by the instance that ended them."}, []string{"job"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "citypulse_scheduler_running_attempts",
			Help: "Job run attempts this instance is executing now."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runs, m.attempts, m.enqueued, m.duration, m.takeovers, m.cancelled, m.running} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register scheduler metrics: %w", err)
		}
	}
	return m, nil
}
