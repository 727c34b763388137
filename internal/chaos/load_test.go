//go:build linux

package chaos

import (
	"bytes"
	"sync"
	"time"

	"github.com/citypulse/citypulse/internal/loadsend"
)

// lockedWriter serialises writes (and reads) of a child's output.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// load is what the senders (internal/loadsend) did, shared between them and the test.
type load struct {
	mu              sync.Mutex
	acked           map[string]bool // message ids of events in batches answered 200
	batches         int             // batches answered 200
	failures        map[string]int  // failed attempts by kind: "connection", "5xx", "429"
	retried         int             // batches that needed more than one attempt
	killedAt        time.Time       // when the collector was killed (zero before)
	failedAfterKill int             // failed attempts that started after the kill
	recoveredAt     time.Time       // first 200 for an attempt started after the kill
}

func newLoad() *load {
	return &load{acked: map[string]bool{}, failures: map[string]int{}}
}

func (l *load) ackedBatches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.batches
}

func (l *load) markKilled(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.killedAt = at
}

// Record is loadsend.Recorder's.
func (l *load) Record(a loadsend.Attempt, ids []string) {
	if a.Kind == loadsend.KindOK {
		l.ok(ids, a.Start, a.N)
		return
	}
	l.fail(a.Kind, a.Start)
}

func (l *load) ok(ids []string, started time.Time, attempts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.acked[id] = true
	}
	l.batches++
	if attempts > 1 {
		l.retried++
	}
	if !l.killedAt.IsZero() && started.After(l.killedAt) && l.recoveredAt.IsZero() {
		l.recoveredAt = time.Now()
	}
}

func (l *load) fail(kind string, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[kind]++
	if !l.killedAt.IsZero() && started.After(l.killedAt) {
		l.failedAfterKill++
	}
}
