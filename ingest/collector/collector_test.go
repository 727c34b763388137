package collector

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
)

const validBatch = `{"sentAt":"2024-05-01T08:30:00Z","context":{"library":{"name":"analytics-go"}},"batch":[
 {"type":"track","event":"Service Viewed","userId":"u-1","messageId":"m-1","properties":{"service_id":17},"context":{"region_code":"510104017001"}},
 {"type":"page","name":"Home","anonymousId":"a-2","messageId":"m-2"},
 {"type":"identify","userId":3,"messageId":"m-3","traits":{"age":41}}]}`

func TestBatchProducesEvents(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/v1/batch", "/v1/import", "/v1/import/"} { // analytics-java posts to /v1/import/
		resp, b := e.post(t, path, devKey, []byte(validBatch))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, b)
		}
		if got := decode[okBody](t, b); !got.Success || got.Accepted != 3 || got.Rejected == nil || len(got.Rejected) != 0 {
			t.Fatalf("%s: answer %s", path, b)
		}
	}
	recs := e.consume(t, bus.EventsTopic, 9)
	var got []string
	for _, r := range recs {
		var ev event.Event
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatalf("record value %s: %v", r.Value, err)
		}
		if ev.Source != devSource || ev.ReceivedAt.IsZero() || ev.Timestamp.IsZero() {
			t.Errorf("event %+v", ev)
		}
		got = append(got, fmt.Sprintf("%s %s %s", r.Key, ev.MessageID, ev.Type))
	}
	sort.Strings(got)
	want := []string{"3 m-3 identify", "3 m-3 identify", "3 m-3 identify", "a-2 m-2 page", "a-2 m-2 page", "a-2 m-2 page", "u-1 m-1 track", "u-1 m-1 track", "u-1 m-1 track"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records (key messageId type)\n got %v\nwant %v", got, want)
	}
	var ev event.Event
	for _, r := range recs {
		if string(r.Key) == "u-1" {
			_ = json.Unmarshal(r.Value, &ev)
		}
	}
	if ev.Event != "Service Viewed" || string(ev.Properties) != `{"service_id":17}` ||
		!strings.Contains(string(ev.Context), `"library":{"name":"analytics-go"}`) || !strings.Contains(string(ev.Context), `"region_code":"510104017001"`) {
		t.Errorf("track event %+v, context %s", ev, ev.Context)
	}
	if got := counterValue(t, e.c.m.accepted.WithLabelValues(devSource)); got != 9 {
		t.Errorf("accepted metric = %v, want 9", got)
	}
	if got := counterValue(t, e.c.m.requests.WithLabelValues("/v1/import", "200")); got != 2 {
		t.Errorf("requests metric of /v1/import (with and without the slash) = %v, want 2", got)
	}
	if got := counterValue(t, e.c.m.requests.WithLabelValues("/v1/batch", "200")); got != 1 {
		t.Errorf("requests metric = %v, want 1", got)
	}
}

func TestMixedBatchDeadLetters(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"batch":[
	 {"type":"track","event":"Login","userId":"u-1","messageId":"ok-1"},
	 {"type":"track","userId":"u-2","messageId":"bad-1"},
	 {"type":"page","anonymousId":"a-3","messageId":"ok-2","context":{"region_code":"5101"}}]}`
	resp, b := e.post(t, "/v1/batch", devKey, []byte(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	got := decode[okBody](t, b)
	if got.Accepted != 1 || len(got.Rejected) != 2 {
		t.Fatalf("answer %s", b)
	}
	r0, r1 := got.Rejected[0], got.Rejected[1]
	if r0.Index != 1 || r0.MessageID != "bad-1" || r0.Field != "event" || r0.Reason == "" ||
		r1.Index != 2 || r1.MessageID != "ok-2" || r1.Field != "context.region_code" {
		t.Errorf("rejected = %+v", got.Rejected)
	}
	evs := e.consume(t, bus.EventsTopic, 1)
	if string(evs[0].Key) != "u-1" {
		t.Errorf("event key %q", evs[0].Key)
	}
	dls := e.consume(t, bus.DLQTopic, 2)
	byIndex := map[int]event.DeadLetter{}
	for _, r := range dls {
		var dl event.DeadLetter
		if err := json.Unmarshal(r.Value, &dl); err != nil {
			t.Fatalf("dead letter %s: %v", r.Value, err)
		}
		byIndex[dl.Index] = dl
	}
	dl := byIndex[1]
	if dl.Field != "event" || dl.Code != event.CodeRequired || !strings.Contains(dl.Reason, "required") || dl.MessageID != "bad-1" ||
		dl.Source != devSource || dl.ReceivedAt.IsZero() || !strings.Contains(string(dl.Raw), `"userId":"u-2"`) {
		t.Errorf("dead letter 1 = %+v raw %s", dl, dl.Raw)
	}
	if dl := byIndex[2]; dl.Field != "context.region_code" || dl.Code != event.CodeInvalid {
		t.Errorf("dead letter 2 = %+v", dl)
	}
	if got := counterValue(t, e.c.m.rejected.WithLabelValues("event", event.CodeRequired)); got != 1 {
		t.Errorf("rejected metric = %v, want 1", got)
	}
}

func TestSingleEventEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		path, body string
		wantType   string
	}{
		{"/v1/track", `{"event":"Pay","userId":"u","properties":{"service_id":"5"}}`, event.TypeTrack},
		{"/v1/page", `{"name":"Home","anonymousId":"a"}`, event.TypePage},
		{"/v1/screen", `{"name":"Map","anonymousId":"a"}`, event.TypeScreen},
		{"/v1/identify", `{"userId":"u","traits":{"name":"x"}}`, event.TypeIdentify},
		// Segment's analytics.js short paths.
		{"/v1/t", `{"event":"Pay","userId":"u2","properties":{"service_id":5}}`, event.TypeTrack},
		{"/v1/p", `{"name":"Home","anonymousId":"a2"}`, event.TypePage},
		{"/v1/a", `{"userId":"u3","previousId":"a3"}`, event.TypeAlias},
	}
	for _, tt := range tests {
		resp, b := e.post(t, tt.path, devKey, []byte(tt.body))
		if resp.StatusCode != http.StatusOK || decode[okBody](t, b).Accepted != 1 {
			t.Fatalf("%s: %d %s", tt.path, resp.StatusCode, b)
		}
	}
	types := map[string]bool{}
	for _, r := range e.consume(t, bus.EventsTopic, len(tests)) {
		var ev event.Event
		_ = json.Unmarshal(r.Value, &ev)
		types[ev.Type] = true
		if ev.Type == event.TypeTrack && string(ev.Properties) != `{"service_id":5}` {
			t.Errorf("track properties %s", ev.Properties)
		}
	}
	for _, tt := range tests {
		if !types[tt.wantType] {
			t.Errorf("no %s event on the topic", tt.wantType)
		}
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name       string
		key        string
		body       string
		wantStatus int
		wantSource string
	}{
		{"basic auth", devKey, `{"batch":[{"type":"page","anonymousId":"a"}]}`, http.StatusOK, devSource},
		{"body writeKey", "", `{"writeKey":"other-key","batch":[{"type":"page","anonymousId":"b"}]}`, http.StatusOK, "other-app"},
		{"no key", "", `{"batch":[{"type":"page","anonymousId":"a"}]}`, http.StatusUnauthorized, ""},
		{"unknown basic key", "nope", `{"batch":[]}`, http.StatusUnauthorized, ""},
		{"unknown body key", "", `{"writeKey":"nope","batch":[]}`, http.StatusUnauthorized, ""},
		{"basic wins over body", "nope", `{"writeKey":"citypulse-dev-key","batch":[]}`, http.StatusUnauthorized, ""},
		{"no key bad json", "", `{"batch":`, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.post(t, "/v1/batch", tt.key, []byte(tt.body))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, b)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if eb := decode[errBody](t, b); eb.Error.Status != 401 || eb.Error.Field != "writeKey" || eb.Error.Message == "" {
					t.Errorf("401 body %s", b)
				}
			}
		})
	}
	sources := map[string]bool{}
	for _, r := range e.consume(t, bus.EventsTopic, 2) {
		var ev event.Event
		_ = json.Unmarshal(r.Value, &ev)
		sources[ev.Source] = true
	}
	if !sources[devSource] || !sources["other-app"] {
		t.Errorf("sources on the topic: %v", sources)
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBodies(t *testing.T) {
	const limit = 4 << 10
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = limit })
	padded := func(n int) []byte {
		return []byte(`{"batch":[{"type":"page","anonymousId":"a","properties":{"pad":"` + strings.Repeat("x", n) + `"}}]}`)
	}
	tests := []struct {
		name       string
		body       []byte
		headers    []string
		wantStatus int
		wantIn     string
	}{
		{"gzip", gz(t, []byte(validBatch)), []string{"Content-Encoding", "gzip"}, http.StatusOK, `"accepted":3`},
		{"just under the limit", padded(limit - 100), nil, http.StatusOK, `"accepted":1`},
		{"oversize", padded(limit), nil, http.StatusRequestEntityTooLarge, "over 4096 bytes"},
		{"oversize once gunzipped", gz(t, padded(100*limit)), []string{"Content-Encoding", "gzip"}, http.StatusRequestEntityTooLarge, "over 4096 bytes"},
		{"not gzip", []byte(validBatch), []string{"Content-Encoding", "gzip"}, http.StatusBadRequest, "gzip"},
		{"brotli", []byte(validBatch), []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType, "br"},
		{"bad json", []byte(`{"batch":[{"type":"track",}]}`), nil, http.StatusBadRequest, "not valid JSON"},
		{"not an object", []byte(`[{"type":"track"}]`), nil, http.StatusBadRequest, "not a JSON object"},
		{"batch not an array", []byte(`{"batch":{}}`), nil, http.StatusBadRequest, `"field":"batch"`},
		{"empty batch", []byte(`{"batch":[]}`), nil, http.StatusOK, `"accepted":0,"rejected":[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.post(t, "/v1/batch", devKey, tt.body, tt.headers...)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantIn) {
				t.Fatalf("status %d body %s, want %d containing %q", resp.StatusCode, b, tt.wantStatus, tt.wantIn)
			}
		})
	}
	if resp, _ := e.post(t, "/v1/track", devKey, []byte(`nope`)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("single bad JSON: %d", resp.StatusCode)
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.srv.Client().Get(e.srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = e.srv.Client().Get(e.srv.URL + "/v1/batch")
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /v1/batch: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/v1/batch", nil)
	req.Header.Set("Origin", "https://h5.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = e.srv.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSaturation holds the broker's first produce request until a second request was answered:
// the first takes all the room, so the second must get 429 with Retry-After, and the first still
// succeeds once the broker answers.
func TestSaturation(t *testing.T) {
	e := newEmbeddedEnv(t, func(c *Config) { c.MaxInFlight = 2; c.RetryAfter = 1500 * time.Millisecond })
	arrived := make(chan struct{})
	release := make(chan struct{})
	cluster := e.broker().Cluster()
	var once sync.Once
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() {
			close(arrived)
			cluster.SleepControl(func() { <-release })
		})
		cluster.DropControl()
		return nil, nil, false // then handle it as usual
	})

	// Three events with room for two: the request takes all the room.
	first := make(chan string, 1)
	go func() {
		resp, b, err := postTo(e.srv.Client(), e.srv.URL+"/v1/batch", devKey, []byte(validBatch))
		if err != nil {
			first <- err.Error()
			return
		}
		first <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	<-arrived
	resp, b := e.post(t, "/v1/track", devKey, []byte(`{"event":"x","userId":"u"}`))
	close(release)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("second request: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if got := <-first; !strings.HasPrefix(got, "200 ") {
		t.Errorf("first request: %s", got)
	}
	// The room is back: the retry goes through.
	if resp, b := e.post(t, "/v1/track", devKey, []byte(`{"event":"x","userId":"u"}`)); resp.StatusCode != http.StatusOK {
		t.Errorf("retry: %d %s", resp.StatusCode, b)
	}
}

// TestBrokerDown: with the broker gone, the collector must answer 503, never 200.
func TestBrokerDown(t *testing.T) {
	e := newEmbeddedEnv(t, func(c *Config) { c.ProduceTimeout = 2 * time.Second })
	if resp, b := e.post(t, "/v1/batch", devKey, []byte(validBatch)); resp.StatusCode != http.StatusOK {
		t.Fatalf("while up: %d %s", resp.StatusCode, b)
	}
	e.broker().Close()
	resp, b := e.post(t, "/v1/batch", devKey, []byte(validBatch))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("broker down: %d %s", resp.StatusCode, b)
	}
	if eb := decode[errBody](t, b); eb.Error.Status != 503 || eb.Error.Message == "" {
		t.Errorf("503 body %s", b)
	}
	if got := counterValue(t, e.c.m.accepted.WithLabelValues(devSource)); got != 3 {
		t.Errorf("accepted metric = %v, want 3 (only the first request)", got)
	}
}
