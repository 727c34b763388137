package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/sdk/go/analytics"
)

// proxy is a test harness in front of the real collector: it answers the statuses of script
// (one per request, in order) before it starts forwarding, and holds requests while hold is
// open.
type proxy struct {
	srv *httptest.Server

	mu         sync.Mutex
	script     []int
	retryAfter string
	hold       chan struct{}
	requests   int
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{}
	fwd := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests++
		hold := p.hold
		status := 0
		if len(p.script) > 0 {
			status, p.script = p.script[0], p.script[1:]
		}
		retryAfter := p.retryAfter
		p.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if status == 0 {
			fwd.ServeHTTP(w, r)
			return
		}
		if status == http.StatusTooManyRequests && retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, `{"error":{"status":`+fmt.Sprint(status)+`,"message":"scripted by the test"}}`, status)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// waits records the waits between attempts without taking them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func tracks(n int, prefix string) []analytics.Track {
	out := make([]analytics.Track, n)
	for i := range out {
		out[i] = analytics.Track{MessageID: fmt.Sprintf("%s-%d", prefix, i), AnonymousID: "a-1", Event: "service_open",
			Context: &analytics.Context{RegionCode: "510104017001", ServiceID: 12}}
	}
	return out
}

// TestRetries: 429 with Retry-After, then 503 twice, then the collector: the batch is retried
// three times, waiting what Retry-After says and then a jittered backoff, and lands once.
func TestRetries(t *testing.T) {
	s := newStack(t, nil)
	p := newProxy(t, s.URL)
	p.script, p.retryAfter = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusServiceUnavailable}, "7"
	var w waits
	c, err := analytics.New(writeKey, p.srv.URL, analytics.WithFlushInterval(time.Hour), analytics.WithConcurrency(1),
		analytics.WithBackoff(100*time.Millisecond, time.Second), analytics.WithSleep(w.sleep), analytics.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tracks(10, "r") {
		if err := c.Track(m); err != nil {
			t.Fatal(err)
		}
	}
	closeClient(t, c)
	st := c.Stats()
	if st.Retries != 3 || st.Sent != 10 || st.Accepted != 10 || st.Batches != 1 || st.DroppedTotal() != 0 {
		t.Fatalf("stats %+v, want 3 retries and 10 accepted", st)
	}
	got := w.all()
	if len(got) != 3 || got[0] != 7*time.Second || got[1] < 100*time.Millisecond || got[1] > 200*time.Millisecond ||
		got[2] < 200*time.Millisecond || got[2] > 400*time.Millisecond {
		t.Fatalf("waits %v, want 7s (Retry-After), then 100–200ms, then 200–400ms", got)
	}
	s.RunOnce()
	if n := s.Count("SELECT count() FROM dwd_events FINAL WHERE message_id LIKE 'r-%'"); n != 10 {
		t.Fatalf("dwd_events has %d rows, want 10", n)
	}
}

// TestRetriesExhausted: a collector that keeps answering 503 costs the batch after
// MaxAttempts, counted as retries_exhausted.
func TestRetriesExhausted(t *testing.T) {
	s := newStack(t, nil)
	p := newProxy(t, s.URL)
	p.script = []int{503, 503, 503, 503}
	var w waits
	c, err := analytics.New(writeKey, p.srv.URL, analytics.WithBatchSize(5), analytics.WithConcurrency(1),
		analytics.WithMaxAttempts(3), analytics.WithSleep(w.sleep), analytics.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tracks(5, "x") {
		if err := c.Track(m); err != nil {
			t.Fatal(err)
		}
	}
	// The first batch is given up before Close, which would retry without limit.
	deadline := time.Now().Add(time.Minute)
	for c.Stats().Pending > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	closeClient(t, c)
	st := c.Stats()
	if st.Dropped[analytics.DropRetriesExhausted] != 5 || st.Retries != 2 || st.Sent != 0 {
		t.Fatalf("stats %+v, want 5 dropped as retries_exhausted after 2 retries", st)
	}
}

// TestRefusedBatchesDropped: 4xx answers other than 429 are not retried; the batch is dropped
// and counted under its status. Both answers come from the real collector.
func TestRefusedBatchesDropped(t *testing.T) {
	s := newStack(t, func(c *collector.Config) { c.MaxBodyBytes = 1 << 10 })
	for _, tc := range []struct {
		name, key string
		n         int
		reason    string
	}{
		{"unknown write key", "not-a-key", 3, "http_401"},
		{"body over the collector's limit", writeKey, 20, "http_413"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []analytics.Message
			var gotReason string
			c, err := analytics.New(tc.key, s.URL, analytics.WithFlushInterval(time.Hour), analytics.WithLogger(quietLog),
				analytics.WithDropHandler(func(reason string, msgs []analytics.Message, _ error) { gotReason, got = reason, msgs }))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tracks(tc.n, "d") {
				if err := c.Track(m); err != nil {
					t.Fatal(err)
				}
			}
			closeClient(t, c)
			st := c.Stats()
			if st.Dropped[tc.reason] != int64(tc.n) || st.DroppedTotal() != int64(tc.n) || st.Retries != 0 || st.Sent != 0 {
				t.Fatalf("stats %+v, want %d dropped as %s, no retries", st, tc.n, tc.reason)
			}
			if gotReason != tc.reason || len(got) != tc.n {
				t.Fatalf("drop handler got %d messages as %q", len(got), gotReason)
			}
		})
	}
}

// TestQueueFull: while the collector is held, a small queue fills up and Enqueue drops and
// counts instead of blocking (BlockTimeout 0), or after BlockTimeout; what was queued is
// delivered once the collector answers again.
func TestQueueFull(t *testing.T) {
	const queue, total = 3, 50
	for _, block := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("block %s", block), func(t *testing.T) {
			s := newStack(t, nil)
			p := newProxy(t, s.URL)
			p.hold = make(chan struct{})
			c, err := analytics.New(writeKey, p.srv.URL, analytics.WithQueueSize(queue), analytics.WithBatchSize(1),
				analytics.WithConcurrency(1), analytics.WithBlockTimeout(block), analytics.WithLogger(quietLog))
			if err != nil {
				t.Fatal(err)
			}
			full := 0
			for _, m := range tracks(total, "q") {
				switch err := c.Track(m); {
				case errors.Is(err, analytics.ErrQueueFull):
					full++
				case err != nil:
					t.Fatal(err)
				}
			}
			st := c.Stats()
			// At most one message in the held request, one waiting for a sender, queue in the queue.
			if int64(full) != st.Dropped[analytics.DropQueueFull] || full < total-queue-2 || st.Enqueued != int64(total-full) {
				t.Fatalf("%d refused with ErrQueueFull, stats %+v: want at least %d dropped as queue_full, the rest enqueued", full, st, total-queue-2)
			}
			close(p.hold)
			closeClient(t, c)
			st = c.Stats()
			if st.Sent != st.Enqueued || st.Accepted != st.Enqueued || st.DroppedTotal() != int64(full) {
				t.Fatalf("after Close %+v: want every enqueued message sent", st)
			}
			s.RunOnce()
			if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != uint64(st.Enqueued) {
				t.Fatalf("dwd_events has %d rows, want %d", n, st.Enqueued)
			}
		})
	}
}

// TestQueueBytesFull: the queue also stops at WithQueueBytes, however many messages it could
// hold: with the collector held, 10 KB events fill a 32 KiB queue after three, and the rest are
// refused (at once, or after BlockTimeout) although the queue has room for 1000 messages;
// everything queued lands once the collector answers.
func TestQueueBytesFull(t *testing.T) {
	const total = 30
	for _, block := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("block %s", block), func(t *testing.T) {
			s := newStack(t, nil)
			p := newProxy(t, s.URL)
			p.hold = make(chan struct{})
			c, err := analytics.New(writeKey, p.srv.URL, analytics.WithQueueSize(1000), analytics.WithQueueBytes(analytics.MaxEventBytes),
				analytics.WithBatchSize(1), analytics.WithConcurrency(1), analytics.WithBlockTimeout(block), analytics.WithLogger(quietLog))
			if err != nil {
				t.Fatal(err)
			}
			big := tracks(total, "b")
			for i := range big {
				big[i].Properties = analytics.Properties{"pad": strings.Repeat("x", 10_000)}
			}
			full := 0
			for _, m := range big {
				switch err := c.Track(m); {
				case errors.Is(err, analytics.ErrQueueFull):
					full++
					if !strings.Contains(err.Error(), "bytes queued") {
						t.Fatalf("refusal %q does not say the bytes", err)
					}
				case err != nil:
					t.Fatal(err)
				}
			}
			st := c.Stats()
			// At most one in the held request, one waiting for a sender, three in 32 KiB.
			if int64(full) != st.Dropped[analytics.DropQueueFull] || full < total-5 || st.Enqueued != int64(total-full) {
				t.Fatalf("%d refused with ErrQueueFull, stats %+v: want at least %d dropped as queue_full", full, st, total-5)
			}
			close(p.hold)
			closeClient(t, c)
			st = c.Stats()
			if st.Sent != st.Enqueued || st.Accepted != st.Enqueued {
				t.Fatalf("after Close %+v: want every enqueued message sent", st)
			}
			s.RunOnce()
			if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != uint64(st.Enqueued) {
				t.Fatalf("dwd_events has %d rows, want %d", n, st.Enqueued)
			}
		})
	}
	if _, err := analytics.New(writeKey, "http://127.0.0.1:1", analytics.WithQueueBytes(1000)); err == nil || !strings.Contains(err.Error(), "WithQueueBytes(1000)") {
		t.Fatalf("WithQueueBytes(1000): %v, want refused", err)
	}
}

// TestCloseGivesUpWhenContextEnds: a collector that never answers 2xx keeps Close retrying
// until its context ends; then the batch counts as closed and Close says so.
func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := analytics.New(writeKey, srv.URL, analytics.WithMaxAttempts(1), analytics.WithBackoff(time.Millisecond, 5*time.Millisecond),
		analytics.WithFlushInterval(time.Hour), analytics.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Track(tracks(1, "c")[0]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = c.Close(ctx)
	st := c.Stats()
	if !errors.Is(err, context.DeadlineExceeded) || st.Dropped[analytics.DropClosed] != 1 || st.Retries < 1 || st.Pending != 0 {
		t.Fatalf("Close: %v, stats %+v: want the deadline, 1 dropped as closed after retries", err, st)
	}
	if err := c.Track(tracks(1, "c")[0]); !errors.Is(err, analytics.ErrClosed) {
		t.Fatalf("Track after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(context.Background()); !errors.Is(err, analytics.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}
