package collector

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/citypulse/citypulse/internal/httpserve"
)

// readyPingTimeout bounds one broker check.
const readyPingTimeout = 2 * time.Second

// readiness caches the last broker check. The request that finds it older than interval checks
// again, while concurrent requests answer from the cached result, so the broker sees at most one
// check per interval however often /readyz is asked.
type readiness struct {
	interval time.Duration

	mu       sync.Mutex
	checking bool
	at       time.Time // of the last check; zero: never checked
	err      error
}

// readyz answers 200 when the producer reached a broker at the last check, else 503.
func (c *Collector) readyz(w http.ResponseWriter, r *http.Request) {
	if err := c.brokerReady(r.Context()); err != nil {
		httpserve.WriteError(w, http.StatusServiceUnavailable, "", "the Kafka broker is not reachable: "+err.Error())
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// brokerReady returns the result of the last broker check, checking again when it is stale
// and no other request is checking already. The first caller ever waits for a check.
func (c *Collector) brokerReady(ctx context.Context) error {
	rd := &c.ready
	rd.mu.Lock()
	if rd.checking || (!rd.at.IsZero() && time.Since(rd.at) < rd.interval) {
		err := rd.err
		if rd.at.IsZero() {
			err = errNotCheckedYet
		}
		rd.mu.Unlock()
		return err
	}
	rd.checking = true
	rd.mu.Unlock()

	pctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
	err := c.producer.Ping(pctx)
	cancel()

	rd.mu.Lock()
	rd.checking, rd.at, rd.err = false, time.Now(), err
	rd.mu.Unlock()
	c.m.ready.Set(boolGauge(err == nil))
	return err
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
