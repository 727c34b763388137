package analytics

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxAnswerBytes bounds how much of an answer is read.
const maxAnswerBytes = 4 << 20

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level never fails
	return w
}}

// outcome of one attempt.
type outcome int

const (
	delivered outcome = iota // 2xx
	retry                    // network error, 429, 5xx
	refused                  // any other status: the batch is dropped
)

// attempt is what one request did.
type attempt struct {
	outcome outcome
	status  int           // 0 on a network error
	wait    time.Duration // Retry-After, 0 when none
	answer  answer        // delivered
	err     error         // retry, refused
}

// send is a sender goroutine: it delivers batches until the batcher is done.
func (c *Client) send() {
	for b := range c.batches {
		c.deliver(b)
	}
}

// deliver tries one batch until it is delivered, refused, out of attempts, or Close's context
// ended, and counts the result.
func (c *Client) deliver(items []item) {
	for n := 1; ; n++ {
		if err := c.stopCtx.Err(); err != nil {
			c.giveUp(items, DropClosed, ErrClosed)
			return
		}
		a := c.post(items)
		switch a.outcome {
		case delivered:
			c.delivered(items, a.answer)
			return
		case refused:
			c.giveUp(items, dropHTTP(a.status), a.err)
			return
		}
		if c.stopCtx.Err() != nil {
			c.giveUp(items, DropClosed, errors.Join(ErrClosed, a.err))
			return
		}
		if n >= c.cfg.maxAttempts && !c.isClosing() {
			c.giveUp(items, DropRetriesExhausted, fmt.Errorf("%d attempts: %w", n, a.err))
			return
		}
		wait := a.wait
		if wait == 0 {
			wait = c.backoff(n)
		}
		c.stats.retries.Add(1)
		c.log.Debug("retrying batch", "messages", len(items), "attempt", n, "wait", wait, "err", a.err)
		if err := c.cfg.sleep(c.stopCtx, wait); err != nil {
			c.giveUp(items, DropClosed, ErrClosed)
			return
		}
	}
}

// post makes one attempt; the body carries sentAt = now so the collector can correct the
// clock skew of this machine.
func (c *Client) post(items []item) attempt {
	body := c.envelope.body(items, time.Now())
	if c.cfg.gzip {
		body = compress(body)
	}
	req, err := http.NewRequestWithContext(c.stopCtx, http.MethodPost, c.batchURL, bytes.NewReader(body))
	if err != nil {
		return attempt{outcome: refused, err: fmt.Errorf("build request: %w", err)}
	}
	req.SetBasicAuth(c.writeKey, "")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", libraryName+"/"+Version)
	if c.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		return attempt{outcome: retry, err: fmt.Errorf("post %s: %w", c.batchURL, err)}
	}
	defer resp.Body.Close()
	text, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
	status := resp.StatusCode
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return attempt{outcome: retry, status: status, wait: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			err: fmt.Errorf("collector answered %s: %s", resp.Status, errorMessage(text))}
	case status < 200 || status > 299:
		return attempt{outcome: refused, status: status, err: fmt.Errorf("collector answered %s: %s", resp.Status, errorMessage(text))}
	case readErr != nil:
		// The collector took the batch; only its answer was cut off. Count it as accepted.
		c.log.Warn("reading the collector's answer", "err", readErr)
	}
	return attempt{outcome: delivered, status: status, answer: parseAnswer(text, items)}
}

// delivered counts a 2xx answer and reports its rejections.
func (c *Client) delivered(items []item, a answer) {
	c.stats.batches.Add(1)
	c.stats.sent.Add(int64(len(items)))
	c.stats.accepted.Add(int64(a.accepted))
	c.stats.rejected.Add(int64(len(a.rejected)))
	c.stats.pending.Add(-int64(len(items)))
	for _, r := range a.rejected {
		c.log.Debug("event rejected", "index", r.Index, "messageId", r.MessageID, "field", r.Field, "code", r.Code, "reason", r.Reason)
		if c.cfg.onRejected != nil {
			c.cfg.onRejected(r)
		}
	}
}

// giveUp drops a batch.
func (c *Client) giveUp(items []item, reason string, err error) {
	c.stats.drop(reason, len(items))
	c.stats.pending.Add(-int64(len(items)))
	c.log.Warn("dropped batch", "messages", len(items), "reason", reason, "err", err)
	if c.cfg.onDropped != nil {
		msgs := make([]Message, len(items))
		for i, it := range items {
			msgs[i] = it.msg
		}
		c.cfg.onDropped(reason, msgs, err)
	}
}

// backoff is the wait before retry n (from 1): min·2^(n-1) capped at max, drawn between half
// and all of it.
func (c *Client) backoff(n int) time.Duration {
	d := min(c.cfg.minBackoff<<min(n-1, 30), c.cfg.maxBackoff)
	if d <= 0 { // overflow
		d = c.cfg.maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at maxRetryAfter; 0
// when absent, unreadable or past.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func compress(body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body)/4 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&b)
	_, _ = w.Write(body) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	gzipWriters.Put(w)
	return b.Bytes()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errors.Join(ErrClosed, ctx.Err())
	}
}
