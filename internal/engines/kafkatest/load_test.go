//go:build linux

package kafkatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// attempt is one POST of a batch: when it started, how long it took, and how it ended.
type attempt struct {
	start time.Time
	took  time.Duration
	kind  string // "ok", or the failure: "connection", "5xx", "429"
}

// load is what the senders did, shared between them and the test.
type load struct {
	mu       sync.Mutex
	acked    map[string]bool // message ids of events in batches answered 200
	batches  int             // batches answered 200
	attempts []attempt
}

func newLoad() *load { return &load{acked: map[string]bool{}} }

func (l *load) ackedBatches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.batches
}

func (l *load) record(a attempt, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if a.kind == "ok" {
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
		if end := a.start.Add(a.took); a.kind == "ok" && a.start.After(t) && (first.IsZero() || end.Before(first)) {
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
		if a.start.Before(from) || !a.start.Before(to) {
			continue
		}
		w.attempts++
		if a.kind == "ok" {
			oks = append(oks, a.took)
			continue
		}
		w.failed++
		w.byKind[a.kind]++
		if end := a.start.Add(a.took); end.After(w.lastFailEnd) {
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

// sender posts batches like a tracking SDK until stop is closed (finishing the batch it is on)
// or maxBatches are sent: each batch keeps its message ids and is resent, with jittered
// exponential backoff, until the collector answers 200. Answers other than 200, 429 and 5xx are
// bugs and end the run.
type sender struct {
	url, writeKey string
	id            int
	perBatch      int
	maxBatches    int
	pause         time.Duration // between batches, to leave the two cores to the brokers
	client        *http.Client
	eventTime     time.Time
}

func (s *sender) batch(b int) ([]map[string]any, []string) {
	evs := make([]map[string]any, s.perBatch)
	ids := make([]string, s.perBatch)
	for i := range evs {
		ids[i] = fmt.Sprintf("kafka-fault-%d-%04d-%02d", s.id, b, i)
		evs[i] = map[string]any{
			"type": "track", "event": "service_open", "messageId": ids[i],
			"anonymousId": fmt.Sprintf("anon-%d-%d", s.id, i%11),
			"timestamp":   s.eventTime.Add(time.Duration(b*s.perBatch+i) * time.Millisecond).Format(time.RFC3339Nano),
			"context":     map[string]any{"region_code": "510104017001", "app": map[string]any{"name": "市民云"}},
			"properties":  map[string]any{"service_id": 1 + (b+i)%20},
		}
	}
	return evs, ids
}

func (s *sender) run(ctx context.Context, stop <-chan struct{}, l *load) error {
	for b := 0; b < s.maxBatches; b++ {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.pause):
		}
		evs, ids := s.batch(b)
		backoff := 10 * time.Millisecond
		for n := 1; ; n++ {
			start := time.Now()
			status, retryAfter, err := s.post(ctx, evs)
			a := attempt{start: start, took: time.Since(start)}
			wait := backoff/2 + rand.N(backoff/2+1)
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("sender %d batch %d: gave up after %d attempts: %w", s.id, b, n, ctx.Err())
			case errors.Is(err, errBadAnswer):
				return fmt.Errorf("sender %d batch %d: %w", s.id, b, err)
			case err != nil:
				a.kind = "connection"
			case status == http.StatusOK:
				a.kind = "ok"
			case status == http.StatusTooManyRequests:
				a.kind = "429"
				if retryAfter > 0 {
					wait = min(retryAfter, time.Second)
				}
			case status >= 500:
				a.kind = "5xx"
			default:
				return fmt.Errorf("sender %d batch %d: collector answered %d: not retried", s.id, b, status)
			}
			l.record(a, ids)
			if a.kind == "ok" {
				break
			}
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
