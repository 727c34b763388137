package loadsend

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

// Attempt kinds: how one POST of a batch ended.
const (
	KindOK         = "ok"         // 200, every event accepted
	KindConnection = "connection" // no answer, or a cut one
	Kind5xx        = "5xx"
	Kind429        = "429"
)

// ErrBadAnswer is a 200 whose body does not accept every event of the batch: a collector bug,
// never retried.
var ErrBadAnswer = errors.New("bad 200 answer")

// Attempt is one POST of a batch.
type Attempt struct {
	Start time.Time
	Took  time.Duration
	N     int    // 1 for a batch's first attempt, 2 for its first retry, …
	Kind  string // KindOK or the failure
}

// End is when the attempt ended.
func (a Attempt) End() time.Time { return a.Start.Add(a.Took) }

// Recorder is told of every attempt with the message ids of its batch. Senders call it from
// their own goroutines: it must be safe for concurrent use.
type Recorder interface {
	Record(a Attempt, ids []string)
}

// Sender posts its batches one after another until Batches are sent or stop is closed (it
// finishes the batch it is on). Answers other than 200, 429 and 5xx end the run with an error:
// they are bugs, not outages.
type Sender struct {
	URL      string // the collector's base URL; batches go to URL + "/v1/batch"
	WriteKey string
	Client   *http.Client
	// ID tells this sender's events apart: message ids are "<IDPrefix>-<ID>-<batch>-<event>"
	// (batch %04d, event %02d) and anonymous ids "anon-<ID>-<event mod Users>".
	ID       int
	IDPrefix string
	Users    int // distinct anonymous ids per sender; 0 means 1
	PerBatch int // events per batch
	Batches  int // batches to send
	// Pause is the wait before each batch (0: none), e.g. to leave the cores to the servers.
	Pause time.Duration
	// EventTime is the first event's timestamp; event i of batch b is b*PerBatch+i ms later.
	EventTime time.Time
}

// EventID is the message id of event i of batch b.
func (s *Sender) EventID(b, i int) string {
	return fmt.Sprintf("%s-%d-%04d-%02d", s.IDPrefix, s.ID, b, i)
}

// Batch returns batch b's track events (Segment JSON) and their message ids.
func (s *Sender) Batch(b int) ([]map[string]any, []string) {
	users := max(s.Users, 1)
	evs := make([]map[string]any, s.PerBatch)
	ids := make([]string, s.PerBatch)
	for i := range evs {
		ids[i] = s.EventID(b, i)
		evs[i] = map[string]any{
			"type": "track", "event": "service_open", "messageId": ids[i],
			"anonymousId": fmt.Sprintf("anon-%d-%d", s.ID, i%users),
			"timestamp":   s.EventTime.Add(time.Duration(b*s.PerBatch+i) * time.Millisecond).Format(time.RFC3339Nano),
			"context":     map[string]any{"region_code": "510104017001", "app": map[string]any{"name": "市民云"}},
			"properties":  map[string]any{"service_id": 1 + (b+i)%20},
		}
	}
	return evs, ids
}

// Run sends the batches, reporting every attempt to rec. It returns an error for an answer that
// must not be retried, or when ctx ends before a batch got its 200.
func (s *Sender) Run(ctx context.Context, stop <-chan struct{}, rec Recorder) error {
	for b := 0; b < s.Batches; b++ {
		if s.Pause > 0 {
			select {
			case <-stop:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(s.Pause):
			}
		}
		select {
		case <-stop:
			return nil
		default:
		}
		if err := s.send(ctx, b, rec); err != nil {
			return err
		}
	}
	return nil
}

// send posts batch b until it gets a 200.
func (s *Sender) send(ctx context.Context, b int, rec Recorder) error {
	evs, ids := s.Batch(b)
	backoff := 10 * time.Millisecond
	for n := 1; ; n++ {
		start := time.Now()
		status, retryAfter, err := s.Post(ctx, evs)
		a := Attempt{Start: start, Took: time.Since(start), N: n}
		wait := backoff/2 + rand.N(backoff/2+1) // jittered exponential backoff
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("sender %d batch %d: gave up after %d attempts: %w", s.ID, b, n, ctx.Err())
		case errors.Is(err, ErrBadAnswer):
			return fmt.Errorf("sender %d batch %d: %w", s.ID, b, err)
		case err != nil:
			a.Kind = KindConnection
		case status == http.StatusOK:
			a.Kind = KindOK
		case status == http.StatusTooManyRequests:
			a.Kind = Kind429
			if retryAfter > 0 {
				wait = min(retryAfter, time.Second)
			}
		case status >= 500:
			a.Kind = Kind5xx
		default:
			return fmt.Errorf("sender %d batch %d: collector answered %d: not retried", s.ID, b, status)
		}
		rec.Record(a, ids)
		if a.Kind == KindOK {
			return nil
		}
		backoff = min(backoff*2, 500*time.Millisecond)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// Post sends one batch and returns the status and the Retry-After it asked for. A 200 whose
// body does not accept every event is ErrBadAnswer; a cut answer is an error, as good as none.
func (s *Sender) Post(ctx context.Context, evs []map[string]any) (status int, retryAfter time.Duration, err error) {
	body, err := json.Marshal(map[string]any{"batch": evs, "sentAt": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return 0, 0, fmt.Errorf("encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.SetBasicAuth(s.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("read answer: %w", err)
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
			return resp.StatusCode, 0, fmt.Errorf("%w: %s", ErrBadAnswer, b)
		}
	}
	return resp.StatusCode, retryAfter, nil
}
