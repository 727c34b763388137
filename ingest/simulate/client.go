package simulate

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
	"time"
)

// retryPolicy of one batch: 429, 5xx and transport errors are retried up to attempts times in
// all, waiting Retry-After when the collector gives one (at most maxRetryAfter), otherwise an
// exponential backoff from base to max with ±25% jitter.
type retryPolicy struct {
	attempts  int
	base, max time.Duration
}

var defaultRetry = retryPolicy{attempts: 8, base: 200 * time.Millisecond, max: 5 * time.Second}

const (
	maxRetryAfter  = 30 * time.Second
	requestTimeout = 30 * time.Second
	// maxSamples is how many rejection entries Stats keeps for the operator to read.
	maxSamples = 10
)

// ErrRejectedRequest is returned (wrapped) when the collector refuses a whole batch with a 4xx
// status other than 429: a wrong write key, a malformed body, a batch too large. Retrying the same
// request cannot help.
var ErrRejectedRequest = errors.New("collector refused the request")

// batchResult is the outcome of sending one batch.
type batchResult struct {
	accepted, rejected int
	retries            int
	samples            []string
}

// collectorAnswer is the collector's 2xx body: {"accepted":N,"rejected":[…]}.
type collectorAnswer struct {
	Accepted *int              `json:"accepted"`
	Rejected []json.RawMessage `json:"rejected"`
}

// send posts one batch to /v1/batch with Basic auth (write key, empty password), retrying as
// described above. It returns an error once retries are exhausted, on a non-retryable answer, or
// when ctx ends.
//
// With live set, each attempt carries sentAt = now, as an SDK sends it. History sends none: the
// collector corrects timestamps by its clock minus sentAt (Segment semantics), which would move
// a replayed event by the request's latency and break exact reproducibility.
func (s *Simulator) send(ctx context.Context, events []Event, live bool) (batchResult, error) {
	var res batchResult
	var body []byte
	for attempt := 1; ; attempt++ {
		if body == nil || live {
			b := batchBody{Batch: events}
			if live {
				b.SentAt = time.Now().UTC().Truncate(time.Millisecond)
			}
			var err error
			if body, err = json.Marshal(b); err != nil {
				return res, fmt.Errorf("encode batch: %w", err)
			}
		}
		wait, err := s.post(ctx, body, len(events), &res)
		if err == nil {
			return res, nil
		}
		if wait < 0 || attempt >= s.retry.attempts || ctx.Err() != nil {
			return res, fmt.Errorf("send batch of %d events to %s (attempt %d): %w", len(events), s.batchURL, attempt, err)
		}
		if wait == 0 {
			wait = s.retry.backoff(attempt)
		}
		s.log.Debug("retrying batch", "attempt", attempt, "wait", wait, "err", err)
		res.retries++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("send batch of %d events: %w", len(events), ctx.Err())
		case <-t.C:
		}
	}
}

// post makes one attempt. On failure it returns how long to wait before retrying (0: use the
// backoff; negative: do not retry).
func (s *Simulator) post(ctx context.Context, body []byte, n int, res *batchResult) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.batchURL, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("build request: %w", err)
	}
	req.SetBasicAuth(s.cfg.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "citypulse-simulator/1")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err // transport errors are worth retrying
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("collector answered %s: %s", resp.Status, snippet(answer))
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		return -1, fmt.Errorf("%w: %s (%d bytes): lower sim-batch-size: %s", ErrRejectedRequest, resp.Status, len(body), snippet(answer))
	case resp.StatusCode >= 300:
		return -1, fmt.Errorf("%w: %s: %s", ErrRejectedRequest, resp.Status, snippet(answer))
	case readErr != nil:
		return 0, fmt.Errorf("read answer: %w", readErr)
	}
	accepted, rejected := parseAnswer(answer, n)
	res.accepted += accepted
	res.rejected += len(rejected)
	for _, r := range rejected {
		if len(res.samples) < maxSamples {
			res.samples = append(res.samples, string(r))
		}
	}
	return 0, nil
}

// parseAnswer reads the collector's 2xx body for a batch of n events: the accepted count and the
// rejection entries. A body without an accepted count (empty, or not the expected JSON) means
// every event not listed as rejected was accepted.
func parseAnswer(body []byte, n int) (accepted int, rejected []json.RawMessage) {
	var a collectorAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return n, nil
	}
	if a.Accepted == nil || *a.Accepted < 0 {
		return max(n-len(a.Rejected), 0), a.Rejected
	}
	return *a.Accepted, a.Rejected
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), capped at maxRetryAfter;
// 0 when absent or unparsable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// backoff is the wait before retry number attempt (from 1).
func (p retryPolicy) backoff(attempt int) time.Duration {
	d := min(p.base<<min(attempt-1, 20), p.max)
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

func snippet(b []byte) string {
	const max = 200
	b = bytes.TrimSpace(b)
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
