package loadsend

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder keeps the attempts.
type recorder struct {
	mu    sync.Mutex
	kinds []string
	acked map[string]bool
}

func (r *recorder) Record(a Attempt, ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, a.Kind)
	if a.Kind == KindOK {
		for _, id := range ids {
			r.acked[id] = true
		}
	}
}

// TestSenderRetries: a collector that answers each batch with the scripted statuses first; the
// sender retries 429/5xx/cut answers until the 200 and stops on answers that are bugs.
func TestSenderRetries(t *testing.T) {
	const ok = `{"success":true,"accepted":2}`
	tests := []struct {
		name    string
		script  []int // statuses before the batch's 200 (0: cut the connection)
		badOK   bool  // answer the 200 with a body that does not accept every event
		kinds   string
		wantErr string
	}{
		{name: "first try", kinds: "ok"},
		{name: "429 then 503 then cut", script: []int{429, 503, 0}, kinds: "429,5xx,connection,ok"},
		{name: "400 is a bug", script: []int{400}, wantErr: "answered 400"},
		{name: "bad 200", badOK: true, wantErr: "bad 200 answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var body struct {
					Batch []map[string]any `json:"batch"`
				}
				if user, _, _ := r.BasicAuth(); user != "k" || r.URL.Path != "/v1/batch" || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Batch) != 2 {
					w.WriteHeader(http.StatusTeapot)
					return
				}
				n := int(calls.Add(1)) - 1
				switch {
				case n < len(tt.script) && tt.script[n] == 0:
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
				case n < len(tt.script):
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tt.script[n])
				case tt.badOK:
					w.Write([]byte(`{"success":true,"accepted":1}`))
				default:
					w.Write([]byte(ok))
				}
			}))
			defer srv.Close()
			s := &Sender{URL: srv.URL, WriteKey: "k", Client: srv.Client(), ID: 3, IDPrefix: "t", Users: 2, PerBatch: 2, Batches: 1, EventTime: time.Now()}
			rec := &recorder{acked: map[string]bool{}}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := s.Run(ctx, nil, rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run = %v, want an error containing %q", err, tt.wantErr)
				}
				if tt.badOK && !errors.Is(err, ErrBadAnswer) {
					t.Errorf("Run = %v, want ErrBadAnswer", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.kinds, ","); got != tt.kinds {
				t.Errorf("attempts %s, want %s", got, tt.kinds)
			}
			if !rec.acked["t-3-0000-00"] || !rec.acked["t-3-0000-01"] || len(rec.acked) != 2 {
				t.Errorf("acked %v, want t-3-0000-00 and -01", rec.acked)
			}
		})
	}
}

// TestSenderStops: a closed stop channel ends the run before the next batch.
func TestSenderStops(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(`{"success":true,"accepted":1}`))
	}))
	defer srv.Close()
	stop := make(chan struct{})
	close(stop)
	s := &Sender{URL: srv.URL, Client: srv.Client(), PerBatch: 1, Batches: 5, Pause: time.Millisecond}
	if err := s.Run(context.Background(), stop, &recorder{acked: map[string]bool{}}); err != nil || calls.Load() != 0 {
		t.Fatalf("Run = %v after %d posts; want nil and none", err, calls.Load())
	}
}
