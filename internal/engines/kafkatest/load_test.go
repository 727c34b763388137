//go:build linux

package kafkatest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/citypulse/citypulse/internal/loadsend"
)

// load is what the senders (internal/loadsend) did, shared between them and the test.
type load struct {
	mu       sync.Mutex
	acked    map[string]bool // message ids of events in batches answered 200
	batches  int             // batches answered 200
	attempts []loadsend.Attempt
}

func newLoad() *load { return &load{acked: map[string]bool{}} }

func (l *load) ackedBatches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.batches
}

// Record is loadsend.Recorder's: it keeps every attempt and the ids of acknowledged events.
func (l *load) Record(a loadsend.Attempt, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if a.Kind == loadsend.KindOK {
		l.batches++
		for _, id := range ids {
			l.acked[id] = true
		}
	}
}

// firstOKAfter returns when the first 200 came for an attempt started after t (zero if none).
func (l *load) firstOKAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, a := range l.attempts {
		if end := a.End(); a.Kind == loadsend.KindOK && a.Start.After(t) && (first.IsZero() || end.Before(first)) {
			first = end
		}
	}
	return first
}

// window summarises the attempts that started in [from, to).
type window struct {
	attempts, failed int
	byKind           map[string]int
	lastFailEnd      time.Time     // when the last failed attempt ended
	p50, p99, max    time.Duration // latency of the 200s
}

func (l *load) window(from, to time.Time) window {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := window{byKind: map[string]int{}}
	var oks []time.Duration
	for _, a := range l.attempts {
		if a.Start.Before(from) || !a.Start.Before(to) {
			continue
		}
		w.attempts++
		if a.Kind == loadsend.KindOK {
			oks = append(oks, a.Took)
			continue
		}
		w.failed++
		w.byKind[a.Kind]++
		if end := a.End(); end.After(w.lastFailEnd) {
			w.lastFailEnd = end
		}
	}
	if len(oks) > 0 {
		slices.Sort(oks)
		w.p50, w.p99, w.max = oks[len(oks)/2], oks[len(oks)*99/100], oks[len(oks)-1]
	}
	return w
}

func (w window) String() string {
	rate := 0.0
	if w.attempts > 0 {
		rate = 100 * float64(w.failed) / float64(w.attempts)
	}
	return fmt.Sprintf("%d requests, %d failed (%.2f%%, by kind %v); latency of the 200s p50 %s, p99 %s, max %s",
		w.attempts, w.failed, rate, w.byKind, w.p50.Round(time.Millisecond), w.p99.Round(time.Millisecond), w.max.Round(time.Millisecond))
}
