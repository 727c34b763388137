package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// collectorStub decodes batches like the collector would and records every message id it
// accepted. answer decides the response to each request (by request number from 1).
type collectorStub struct {
	t        *testing.T
	writeKey string
	live     bool // batches carry sentAt (Trickle) or not (History)
	answer   func(req int, batch []Event) (status int, header http.Header, body string)

	mu       sync.Mutex
	requests int
	got      map[string]int       // message id → times accepted
	firstTry map[string]time.Time // first message id of each refused batch → when refused
	retryGap time.Duration        // shortest wait between a refusal and the batch's acceptance
	events   []Event
}

func newCollectorStub(t *testing.T, writeKey string, answer func(int, []Event) (int, http.Header, string)) (*collectorStub, *httptest.Server) {
	c := &collectorStub{t: t, writeKey: writeKey, answer: answer, got: map[string]int{}, firstTry: map[string]time.Time{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

func (c *collectorStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		c.t.Errorf(format, args...)
		http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/batch" {
		fail("request %s %s, want POST /v1/batch", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail("Content-Type %q", ct)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || pass != "" {
		fail("Basic auth missing or with a password")
		return
	}
	var body struct {
		Batch  []json.RawMessage `json:"batch"`
		SentAt *time.Time        `json:"sentAt"`
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		// The client hung up mid-body: the simulator cancels its other requests once one failed
		// for good (e.g. a wrong write key). Not a malformed body.
		return
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Batch) == 0 {
		fail("body: want {batch: [...]}: %v", err)
		return
	}
	if (body.SentAt != nil) != c.live {
		fail("sentAt present = %v; want it on live batches only", body.SentAt != nil)
		return
	}
	batch := make([]Event, len(body.Batch))
	for i, raw := range body.Batch {
		var shape map[string]json.RawMessage
		if err := json.Unmarshal(raw, &shape); err != nil {
			fail("event %d: %v", i, err)
			return
		}
		for _, k := range []string{"type", "messageId", "timestamp", "anonymousId", "context"} {
			if _, ok := shape[k]; !ok {
				fail("event %d lacks %q", i, k)
				return
			}
		}
		if err := json.Unmarshal(raw, &batch[i]); err != nil {
			fail("event %d: %v", i, err)
			return
		}
	}
	c.mu.Lock()
	c.requests++
	n := c.requests
	c.mu.Unlock()

	status, header, answer := http.StatusOK, http.Header(nil), ""
	if user != c.writeKey {
		status, answer = http.StatusUnauthorized, `{"error":{"status":401,"message":"unknown write key"}}`
	} else if c.answer != nil {
		status, header, answer = c.answer(n, batch)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if status != http.StatusOK {
		c.firstTry[batch[0].MessageID] = time.Now()
	} else {
		if at, ok := c.firstTry[batch[0].MessageID]; ok {
			if gap := time.Since(at); c.retryGap == 0 || gap < c.retryGap {
				c.retryGap = gap
			}
		}
		for _, e := range batch {
			c.got[e.MessageID]++
			c.events = append(c.events, e)
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(answer))
}

// rejectIdentify answers 200 and lists every identify event as rejected.
func rejectIdentify(batch []Event) string {
	var rejected []string
	for i, e := range batch {
		if e.Type == TypeIdentify {
			rejected = append(rejected, fmt.Sprintf(`{"index":%d,"messageId":%q,"reason":"test"}`, i, e.MessageID))
		}
	}
	return fmt.Sprintf(`{"accepted":%d,"rejected":[%s]}`, len(batch)-len(rejected), strings.Join(rejected, ","))
}

func TestHistory(t *testing.T) {
	tests := []struct {
		name        string
		writeKey    string // the key the stub expects
		concurrency int
		answer      func(int, []Event) (int, http.Header, string)
		wantErr     error // nil: success
		wantRetried int   // exact, when wantErr is nil or concurrency is 1
		emptyAnswer bool
		minRetryGap time.Duration // Retry-After honoured
	}{
		{
			name: "429 with Retry-After once, then per-event rejections", writeKey: "k1", concurrency: 3,
			answer: func(n int, b []Event) (int, http.Header, string) {
				if n == 1 {
					return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, `{"error":{"status":429}}`
				}
				return http.StatusOK, nil, rejectIdentify(b)
			},
			wantRetried: 1, minRetryGap: time.Second,
		},
		{
			name: "503 twice without Retry-After", writeKey: "k1", concurrency: 1,
			answer: func(n int, b []Event) (int, http.Header, string) {
				if n <= 2 {
					return http.StatusServiceUnavailable, nil, "busy"
				}
				return http.StatusOK, nil, rejectIdentify(b)
			},
			wantRetried: 2,
		},
		{
			name: "collector that answers with an empty body", writeKey: "k1", concurrency: 2,
			answer:      func(int, []Event) (int, http.Header, string) { return http.StatusOK, nil, "" },
			emptyAnswer: true,
		},
		{
			name: "wrong write key", writeKey: "other", concurrency: 2,
			wantErr: ErrRejectedRequest,
		},
		{
			name: "500 forever", writeKey: "k1", concurrency: 1,
			answer: func(int, []Event) (int, http.Header, string) {
				return http.StatusInternalServerError, nil, "boom"
			},
			wantErr: errors.New("any"), wantRetried: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, srv := newCollectorStub(t, tt.writeKey, tt.answer)
			cfg := testConfig(200, 5, 11)
			cfg.CollectorURL, cfg.WriteKey = srv.URL, "k1"
			cfg.BatchSize, cfg.Concurrency = 97, tt.concurrency
			s := newTestSim(t, cfg)
			s.retry = retryPolicy{attempts: 3, base: time.Millisecond, max: 5 * time.Millisecond}

			lastSent, lastTotal, calls := 0, 0, 0
			stats, err := s.History(context.Background(), func(sent, total int) {
				if sent < lastSent {
					t.Errorf("progress went back from %d to %d", lastSent, sent)
				}
				lastSent, lastTotal = sent, total
				calls++
			})
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("History succeeded, want an error")
				}
				if errors.Is(tt.wantErr, ErrRejectedRequest) && !errors.Is(err, ErrRejectedRequest) {
					t.Fatalf("error %v, want ErrRejectedRequest", err)
				}
				if tt.concurrency == 1 && stats.Retried != tt.wantRetried {
					t.Fatalf("retried %d, want %d", stats.Retried, tt.wantRetried)
				}
				return
			}
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			total := s.Total()
			identifies := 0
			for e := range s.Generate {
				if stub.got[e.MessageID] != 1 {
					t.Fatalf("event %s arrived %d times, want once", e.MessageID, stub.got[e.MessageID])
				}
				if e.Type == TypeIdentify {
					identifies++
				}
			}
			want := Stats{Sent: total, Accepted: total - identifies, Rejected: identifies, Retried: tt.wantRetried}
			if tt.emptyAnswer {
				want.Accepted, want.Rejected = total, 0
			}
			if len(stub.got) != total || stats.Sent != want.Sent || stats.Accepted != want.Accepted ||
				stats.Rejected != want.Rejected || stats.Retried != want.Retried {
				t.Fatalf("stats %+v, stub got %d; want %+v", stats, len(stub.got), want)
			}
			if wantBatches := (total + cfg.BatchSize - 1) / cfg.BatchSize; stats.Batches != wantBatches {
				t.Fatalf("batches %d, want %d", stats.Batches, wantBatches)
			}
			if want.Rejected > 0 && !strings.Contains(strings.Join(stats.RejectionSamples, ""), `"reason":"test"`) {
				t.Fatalf("rejection samples %q", stats.RejectionSamples)
			}
			if stub.retryGap < tt.minRetryGap {
				t.Fatalf("batch retried after %v, want at least the Retry-After of %v", stub.retryGap, tt.minRetryGap)
			}
			if lastSent != total || lastTotal != total || calls < 2 {
				t.Fatalf("progress ended at %d/%d after %d calls, want %d/%d", lastSent, lastTotal, calls, total, total)
			}
		})
	}
}

func TestHistoryCancelled(t *testing.T) {
	_, srv := newCollectorStub(t, "k1", nil)
	cfg := testConfig(100, 3, 1)
	cfg.CollectorURL, cfg.WriteKey = srv.URL, "k1"
	s := newTestSim(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.History(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("History on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestTrickle(t *testing.T) {
	const rate = 40.0
	newTrickle := func(t *testing.T) (*collectorStub, *Simulator) {
		stub, srv := newCollectorStub(t, "k1", func(_ int, b []Event) (int, http.Header, string) {
			return http.StatusOK, nil, rejectIdentify(b)
		})
		stub.live = true
		cfg := testConfig(300, 1, 5)
		cfg.CollectorURL, cfg.WriteKey, cfg.TrickleRate = srv.URL, "k1", rate
		return stub, newTestSim(t, cfg)
	}
	// Two runs at once (same config): their message ids must differ.
	var (
		wg      sync.WaitGroup
		stubs   [2]*collectorStub
		sims    [2]*Simulator
		elapsed [2]time.Duration
	)
	for k := range stubs {
		stubs[k], sims[k] = newTrickle(t)
	}
	for k := range stubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
			defer cancel()
			began := time.Now()
			if err := sims[k].Trickle(ctx); err != nil {
				t.Errorf("Trickle: %v", err)
			}
			elapsed[k] = time.Since(began)
		}()
	}
	wg.Wait()
	for k, stub := range stubs {
		n := len(stub.events)
		// Bounded above by the rate over the time it ran plus one tick; no lower bound but "some".
		if limit := int(rate*elapsed[k].Seconds()) + int(rate*trickleTick.Seconds()) + 1; n == 0 || n > limit {
			t.Fatalf("run %d: %d events in %v, want 1..%d", k, n, elapsed[k], limit)
		}
		for _, e := range stub.events {
			if stub.got[e.MessageID] != 1 {
				t.Fatalf("message id %s repeated", e.MessageID)
			}
			if age := time.Since(e.Timestamp); age < 0 || age > 5*time.Second {
				t.Fatalf("live event timestamp %v is not now", e.Timestamp)
			}
			if e.Type != TypeIdentify && e.Properties.ServiceID == 0 {
				t.Fatalf("live event without service_id: %+v", e)
			}
		}
	}
	for id := range stubs[0].got {
		if stubs[1].got[id] > 0 {
			t.Fatalf("two trickle runs sent the same message id %s", id)
		}
	}
}

func TestTrickleNeedsRate(t *testing.T) {
	cfg := testConfig(10, 1, 1)
	cfg.TrickleRate = 0
	if err := newTestSim(t, cfg).Trickle(context.Background()); err == nil {
		t.Fatal("Trickle with rate 0 succeeded")
	}
}
