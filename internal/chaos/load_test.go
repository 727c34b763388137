//go:build linux

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
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

// load is what the senders did, shared between them and the test.
type load struct {
	mu              sync.Mutex
	acked           map[string]bool // message ids of events in batches answered 200
	batches         int             // batches answered 200
	failures        map[string]int  // failed attempts by kind: "connection", "5xx", "429", "bad answer"
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

// sender sends its batches one after another like a tracking SDK: each batch keeps its message
// ids and is resent, with exponential backoff and jitter (or the collector's Retry-After), until
// the collector answers 200. Answers other than 200, 429 and 5xx are not retried: they are bugs.
type sender struct {
	url, writeKey string
	id            int
	batches       int
	perBatch      int
	client        *http.Client
	eventTime     time.Time
}

// eventID names event i of batch b of this sender.
func (s *sender) eventID(b, i int) string { return fmt.Sprintf("chaos-%d-%03d-%02d", s.id, b, i) }

func (s *sender) batch(b int) ([]map[string]any, []string) {
	evs := make([]map[string]any, s.perBatch)
	ids := make([]string, s.perBatch)
	for i := range evs {
		ids[i] = s.eventID(b, i)
		evs[i] = map[string]any{
			"type": "track", "event": "service_open", "messageId": ids[i],
			"anonymousId": fmt.Sprintf("anon-%d-%d", s.id, i%7),
			"timestamp":   s.eventTime.Add(time.Duration(b*s.perBatch+i) * time.Millisecond).Format(time.RFC3339Nano),
			"context":     map[string]any{"region_code": "510104017001", "app": map[string]any{"name": "市民云"}},
			"properties":  map[string]any{"service_id": 1 + (b+i)%20},
		}
	}
	return evs, ids
}

// run sends every batch; it returns an error only for an answer that must not be retried or when
// ctx ends before a batch got its 200.
func (s *sender) run(ctx context.Context, l *load) error {
	for b := 0; b < s.batches; b++ {
		evs, ids := s.batch(b)
		backoff := 10 * time.Millisecond
		for attempt := 1; ; attempt++ {
			started := time.Now()
			status, retryAfter, err := s.post(ctx, evs)
			if err == nil && status == http.StatusOK {
				l.ok(ids, started, attempt)
				break
			}
			var kind string
			wait := backoff/2 + rand.N(backoff/2+1) // jittered exponential backoff
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("sender %d batch %d: gave up after %d attempts: %w", s.id, b, attempt, ctx.Err())
			case errors.Is(err, errBadAnswer):
				return fmt.Errorf("sender %d batch %d: %w", s.id, b, err)
			case err != nil:
				kind = "connection"
			case status == http.StatusTooManyRequests:
				kind = "429"
				if retryAfter > 0 {
					wait = min(retryAfter, time.Second)
				}
			case status >= 500:
				kind = "5xx"
			default:
				return fmt.Errorf("sender %d batch %d: collector answered %d: not retried", s.id, b, status)
			}
			l.fail(kind, started)
			backoff = min(backoff*2, 500*time.Millisecond)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	return nil
}

var errBadAnswer = errors.New("bad 200 answer")

// post sends one batch. A 200 whose body does not accept every event is errBadAnswer.
func (s *sender) post(ctx context.Context, evs []map[string]any) (status int, retryAfter time.Duration, err error) {
	body, err := json.Marshal(map[string]any{"batch": evs, "sentAt": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.SetBasicAuth(s.writeKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err // the answer was cut: as good as none
	}
	if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil {
		retryAfter = time.Duration(secs) * time.Second
	}
	if resp.StatusCode == http.StatusOK {
		var a struct {
			Accepted int               `json:"accepted"`
			Rejected []json.RawMessage `json:"rejected"`
		}
		if err := json.Unmarshal(b, &a); err != nil || a.Accepted != len(evs) || len(a.Rejected) != 0 {
			return resp.StatusCode, 0, fmt.Errorf("%w: %s", errBadAnswer, b)
		}
	}
	return resp.StatusCode, retryAfter, nil
}
