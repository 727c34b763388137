package review

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/warehouse"
)

// Options configure a Service. The zero value works.
type Options struct {
	// Log receives one line per decision. Nil discards.
	Log *slog.Logger
	// Registerer takes the service's metrics. Nil registers nothing.
	Registerer prometheus.Registerer
	// Closing names, per dataset, the columns that close a relation: a change request whose
	// proposed row sets one of them (and whose current row does not) is a move_out. Nil means
	// DefaultClosing.
	Closing map[string][]string
	// Now is the clock of decisions. Nil means time.Now.
	Now func() time.Time
}

// DefaultClosing: a person_house row with a move-out date closes the person's relation to the
// house.
var DefaultClosing = map[string][]string{"person_house": {"move_out_date"}}

// Limits of List and Compare pages.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Service reads and decides change requests and compares reference feeds through one warehouse
// connection whose default database holds the tables. Build it with New; it is safe for
// concurrent use.
type Service struct {
	conn    driver.Conn
	log     *slog.Logger
	closing map[string][]string
	now     func() time.Time
	metrics *metrics

	mu      sync.Mutex
	locks   map[string]*keyLock // request id → its decision lock
	waiters map[string]int
}

type keyLock struct{ sync.Mutex }

// New builds a Service reading and writing through conn.
func New(conn driver.Conn, opts Options) (*Service, error) {
	if conn == nil {
		return nil, errors.New("review: nil warehouse connection")
	}
	s := &Service{
		conn:    conn,
		log:     opts.Log,
		closing: opts.Closing,
		now:     opts.Now,
		locks:   map[string]*keyLock{},
		waiters: map[string]int{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.closing == nil {
		s.closing = DefaultClosing
	}
	if s.now == nil {
		s.now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// lock serialises the decisions on one request id; the returned func unlocks.
func (s *Service) lock(id string) func() {
	s.mu.Lock()
	l, ok := s.locks[id]
	if !ok {
		l = &keyLock{}
		s.locks[id] = l
	}
	s.waiters[id]++
	s.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.mu.Lock()
		if s.waiters[id]--; s.waiters[id] == 0 {
			delete(s.waiters, id)
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

// metrics are the service's counters.
type metrics struct {
	decisions *prometheus.CounterVec
	compared  *prometheus.CounterVec
	stale     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_review_decisions_total",
			Help: "Change-request decisions recorded, by dataset and decision (approved, rejected); repeated decisions are not counted.",
		}, []string{"dataset", "decision"}),
		compared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citypulse_review_compared_records_total",
			Help: "Records a reference comparison looked at, by dataset and outcome (same, differs, missing_in_dwd, missing_in_reference).",
		}, []string{"dataset", "status"}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citypulse_review_stale_addresses",
			Help: "People whose stated address is a house they moved out of, as last counted for the whole city.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.decisions, m.compared, m.stale} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register review metrics: %w", err)
		}
	}
	return m, nil
}

func quoteTable(name string) string { return warehouse.QuoteIdent(name) }

func groupSet(ids []string) clickhouse.GroupSet {
	set := make([]any, len(ids))
	for i, id := range ids {
		set[i] = id
	}
	return clickhouse.GroupSet{Value: set}
}
