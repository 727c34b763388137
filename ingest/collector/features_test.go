package collector

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
)

func TestAliasEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	resp, b := e.post(t, "/v1/alias", devKey, []byte(`{"previousId":"anon-7","userId":"u-7","messageId":"al-1"}`))
	if resp.StatusCode != http.StatusOK || decode[okBody](t, b).Accepted != 1 {
		t.Fatalf("alias: %d %s", resp.StatusCode, b)
	}
	resp, b = e.post(t, "/v1/alias", devKey, []byte(`{"userId":"u-7","anonymousId":"anon-7"}`))
	if got := decode[okBody](t, b); resp.StatusCode != http.StatusOK || got.Accepted != 0 || len(got.Rejected) != 1 || got.Rejected[0].Field != "previousId" {
		t.Fatalf("alias without previousId: %d %s", resp.StatusCode, b)
	}
	recs := e.consume(t, bus.EventsTopic, 1)
	var ev event.Event
	if err := json.Unmarshal(recs[0].Value, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != event.TypeAlias || ev.PreviousID != "anon-7" || ev.UserID != "u-7" || string(recs[0].Key) != "u-7" {
		t.Errorf("alias record key %q: %+v", recs[0].Key, ev)
	}
}

func TestRateLimit(t *testing.T) {
	// 0.1 event/s with a bucket of 4: a batch of 3 passes, the next needs 2 more tokens than
	// left, which take 20 s to come.
	e := newEnv(t, func(c *Config) { c.WriteKeys = append(c.WriteKeys, "slow-key=slow-app:0.1:4") })
	resp, b := e.post(t, "/v1/batch", "slow-key", []byte(validBatch))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first batch: %d %s", resp.StatusCode, b)
	}
	resp, b = e.post(t, "/v1/batch", "slow-key", []byte(validBatch))
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || ra < 15 || ra > 20 {
		t.Fatalf("second batch: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if eb := decode[errBody](t, b); eb.Error.Field != "writeKey" || !strings.Contains(eb.Error.Message, "0.1 events/s") {
		t.Errorf("429 body %s", b)
	}
	if got := counterValue(t, e.c.m.rateLimited.WithLabelValues("slow-app")); got != 3 {
		t.Errorf("rate-limited metric = %v, want 3", got)
	}
	// The refused request took no tokens: a single event still fits.
	if resp, b := e.post(t, "/v1/track", "slow-key", []byte(`{"event":"x","userId":"u"}`)); resp.StatusCode != http.StatusOK {
		t.Errorf("single event: %d %s", resp.StatusCode, b)
	}
	// Other keys are not limited.
	for range 3 {
		if resp, b := e.post(t, "/v1/batch", devKey, []byte(validBatch)); resp.StatusCode != http.StatusOK {
			t.Fatalf("unlimited key: %d %s", resp.StatusCode, b)
		}
	}
	// A batch larger than the bucket needs the whole bucket, not the impossible.
	big := `{"batch":[` + strings.Repeat(`{"type":"page","anonymousId":"a"},`, 9) + `{"type":"page","anonymousId":"a"}]}`
	e2 := newEnv(t, func(c *Config) { c.WriteKeys = []string{"k=app:1000:5"} })
	if resp, b := e2.post(t, "/v1/batch", "k", []byte(big)); resp.StatusCode != http.StatusOK {
		t.Errorf("batch over the burst: %d %s", resp.StatusCode, b)
	}
}

// contextOf returns the context of the one record on the events topic whose userId is user.
func contextOf(t *testing.T, recs []*kgo.Record, user string) map[string]any {
	t.Helper()
	for _, r := range recs {
		var ev event.Event
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.UserID == user {
			var m map[string]any
			if err := json.Unmarshal(ev.Context, &m); err != nil {
				t.Fatalf("context %s: %v", ev.Context, err)
			}
			return m
		}
	}
	t.Fatalf("no event of %s", user)
	return nil
}

func TestEnrichment(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TrustedProxies = []string{"127.0.0.0/8"} })
	const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"
	tests := []struct {
		user    string
		headers []string
		ctx     string
		wantIP  string
	}{
		{"via-proxy", []string{"X-Forwarded-For", "203.0.113.77, 10.0.0.1", "User-Agent", android}, `{"app":{"version":"v4.1.0"}}`, "203.0.113.0"},
		{"via-proxy-v6", []string{"X-Forwarded-For", "2001:db8:abcd:12::7"}, `{}`, "2001:db8:abcd::"},
		{"bad-xff", []string{"X-Forwarded-For", "unknown"}, `{}`, "127.0.0.0"},
		{"no-xff", nil, `{"ip":"198.51.100.23"}`, "127.0.0.0"},
	}
	for _, tt := range tests {
		body := `{"event":"Open","userId":"` + tt.user + `","context":` + tt.ctx + `}`
		if resp, b := e.post(t, "/v1/track", devKey, []byte(body), tt.headers...); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.user, resp.StatusCode, b)
		}
	}
	// Without trusting the proxy, X-Forwarded-For is ignored.
	e2 := newEnv(t, nil)
	if resp, b := e2.post(t, "/v1/track", devKey, []byte(`{"event":"Open","userId":"untrusted"}`), "X-Forwarded-For", "203.0.113.77"); resp.StatusCode != http.StatusOK {
		t.Fatalf("untrusted: %d %s", resp.StatusCode, b)
	}

	recs := e.consume(t, bus.EventsTopic, len(tests))
	for _, tt := range tests {
		ctx := contextOf(t, recs, tt.user)
		srv, _ := ctx["server"].(map[string]any)
		if srv["ip"] != tt.wantIP {
			t.Errorf("%s: context.server = %v, want ip %s", tt.user, srv, tt.wantIP)
		}
		raw, _ := json.Marshal(ctx)
		if strings.Contains(string(raw), "203.0.113.77") || strings.Contains(string(raw), "198.51.100.23") {
			t.Errorf("%s: a full IP is stored: %s", tt.user, raw)
		}
	}
	got, _ := json.Marshal(contextOf(t, recs, "via-proxy")["server"])
	want := `{"appVersion":"4.1.0","browser":{"name":"Chrome","version":"124.0.6367.82"},"device":{"type":"mobile"},"ip":"203.0.113.0","os":{"name":"Android","version":"14"}}`
	if string(got) != want {
		t.Errorf("server\n got %s\nwant %s", got, want)
	}
	if ip := contextOf(t, recs, "no-xff")["ip"]; ip != "198.51.100.0" {
		t.Errorf("client context.ip = %v, want it truncated", ip)
	}
	srv := contextOf(t, e2.consume(t, bus.EventsTopic, 1), "untrusted")["server"].(map[string]any)
	if srv["ip"] != "127.0.0.0" {
		t.Errorf("untrusted proxy: server %v", srv)
	}
}

// fakePlan rejects events named "Forbidden", flags "Unknown" ones, and counts its calls.
type fakePlan struct{ calls atomic.Int64 }

func (p *fakePlan) Check(source string, e *event.Event) PlanVerdict {
	p.calls.Add(1)
	switch e.Event {
	case "Forbidden":
		return PlanVerdict{Reject: &event.Rejection{Field: "properties.amount", Rule: "required", Reason: "amount is required by plan v3 for " + source}}
	case "Unknown":
		return PlanVerdict{Flags: []string{"unknown_event"}}
	}
	return PlanVerdict{}
}

func TestPlanChecker(t *testing.T) {
	plan := &fakePlan{}
	e := newEnv(t, nil, WithPlanChecker(plan))
	body := `{"batch":[
	 {"type":"track","event":"Forbidden","userId":"u-0","messageId":"p-0"},
	 {"type":"track","userId":"u-1","messageId":"bad-1"},
	 {"type":"track","event":"Fine","userId":"u-2","messageId":"ok-2"},
	 {"type":"track","event":"Forbidden","userId":"u-3","messageId":"p-3"},
	 {"type":"track","event":"Unknown","userId":"u-4","messageId":"ok-4"}]}`
	resp, b := e.post(t, "/v1/batch", devKey, []byte(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	got := decode[okBody](t, b)
	if got.Accepted != 2 || len(got.Rejected) != 3 {
		t.Fatalf("answer %s", b)
	}
	for i, want := range []struct {
		index int
		msg   string
	}{{0, "p-0"}, {1, "bad-1"}, {3, "p-3"}} {
		if r := got.Rejected[i]; r.Index != want.index || r.MessageID != want.msg {
			t.Errorf("rejected[%d] = %+v, want index %d messageId %s", i, r, want.index, want.msg)
		}
	}
	if n := plan.calls.Load(); n != 4 {
		t.Errorf("plan checked %d events, want the 4 valid ones", n)
	}
	flags := map[string][]string{}
	for _, r := range e.consume(t, bus.EventsTopic, 2) {
		var ev event.Event
		_ = json.Unmarshal(r.Value, &ev)
		flags[ev.MessageID] = ev.PlanFlags
	}
	if len(flags["ok-2"]) != 0 || len(flags["ok-4"]) != 1 || flags["ok-4"][0] != "unknown_event" {
		t.Errorf("plan flags %v", flags)
	}
	dls := map[int]event.DeadLetter{}
	for _, r := range e.consume(t, bus.DLQTopic, 3) {
		var dl event.DeadLetter
		if err := json.Unmarshal(r.Value, &dl); err != nil {
			t.Fatal(err)
		}
		dls[dl.Index] = dl
	}
	dl := dls[3]
	if dl.Code != event.CodePlan || dl.Rule != "required" || dl.Event != "Forbidden" || dl.Field != "properties.amount" ||
		dl.MessageID != "p-3" || dl.Source != devSource || !strings.Contains(dl.Reason, "plan v3 for "+devSource) || !strings.Contains(string(dl.Raw), `"userId":"u-3"`) {
		t.Errorf("plan dead letter %+v raw %s", dl, dl.Raw)
	}
	if dls[1].Code != event.CodeRequired {
		t.Errorf("parse dead letter %+v", dls[1])
	}
	if got := counterValue(t, e.c.m.flagged.WithLabelValues("unknown_event")); got != 1 {
		t.Errorf("flagged metric = %v", got)
	}
	if got := counterValue(t, e.c.m.rejected.WithLabelValues("properties.amount", event.CodePlan)); got != 2 {
		t.Errorf("rejected metric (plan) = %v", got)
	}
}

func TestReadyz(t *testing.T) {
	e := newEmbeddedEnv(t, func(c *Config) { c.ReadyInterval = time.Millisecond })
	get := func(path string) int {
		t.Helper()
		resp, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/readyz"); s != http.StatusOK {
		t.Fatalf("readyz with the broker up: %d", s)
	}
	e.broker().Close()
	deadline := time.Now().Add(30 * time.Second)
	for get("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readyz never failed with the broker down")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := get("/healthz"); s != http.StatusOK {
		t.Errorf("healthz with the broker down: %d (liveness must not depend on the broker)", s)
	}
}

// TestReadyzCached: within the interval, /readyz reuses the last check.
func TestReadyzCached(t *testing.T) {
	e := newEmbeddedEnv(t, func(c *Config) { c.ReadyInterval = time.Hour })
	if err := e.c.brokerReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.broker().Close()
	rec := httptest.NewRecorder()
	e.c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("cached readyz: %d", rec.Code)
	}
}

func TestClientAddr(t *testing.T) {
	c := &Collector{}
	c.trusted, _ = parseTrustedProxies([]string{"10.0.0.0/8", "::1"})
	tests := []struct {
		remote, xff, want string
	}{
		{"10.1.2.3:5000", "203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"10.1.2.3:5000", " 2001:db8::1 ", "2001:db8::1"},
		{"10.1.2.3:5000", "::ffff:198.51.100.1", "198.51.100.1"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
		{"[::1]:5000", "203.0.113.9", "203.0.113.9"},
		{"192.0.2.7:5000", "203.0.113.9", "192.0.2.7"}, // untrusted peer: header ignored
		{"[::ffff:10.0.0.1]:80", "203.0.113.9", "203.0.113.9"},
		{"garbage", "203.0.113.9", "invalid IP"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := c.clientAddr(r).String(); got != tt.want {
			t.Errorf("clientAddr(%s, XFF %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func FuzzClientAddr(f *testing.F) {
	c := &Collector{}
	c.trusted, _ = parseTrustedProxies([]string{"0.0.0.0/0", "::/0"})
	for _, s := range []string{"203.0.113.9, 10.0.0.1", "2001:db8::1", "", ",,,", "1.2.3.4%eth0", "[::1]:80", "::ffff:1.2.3.4"} {
		f.Add("10.0.0.1:80", s)
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		a := c.clientAddr(r)
		ip := event.TruncateAddr(a)
		if a.IsValid() != (ip != "") {
			t.Fatalf("addr %v truncated to %q", a, ip)
		}
		if ip != "" {
			if again, ok := event.TruncateIP(ip); !ok || again != ip {
				t.Fatalf("%q is not a truncated address (%q)", ip, again)
			}
		}
	})
}

func TestBodyWriteKey(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"writeKey":"k","batch":[]}`, "k"},
		{`{"batch":[{"writeKey":"inner"}],"writeKey":"outer"}`, "outer"},
		{`{"writeKey":"a","writeKey":"b"}`, "b"},
		{`{"writeKey":"a","writeKey":5}`, ""},
		{`{"writeKey":5}`, ""},
		{`{"writeKey":"k","batch":[`, ""},
		{`["writeKey"]`, ""},
		{``, ""},
		{`{"write\u004bey":"esc"}`, "esc"},
	}
	for _, tt := range tests {
		if got := bodyWriteKey([]byte(tt.body)); got != tt.want {
			t.Errorf("bodyWriteKey(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzBodyWriteKey(f *testing.F) {
	for _, s := range []string{`{"writeKey":"k","batch":[]}`, `{"writeKey":"k"`, `{"a":{"writeKey":"x"}}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := bodyWriteKey(body)
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			if got != "" {
				t.Fatalf("key %q read from invalid JSON", got)
			}
			return
		}
		var want string
		if json.Unmarshal(m["writeKey"], &want) != nil {
			want = "" // absent or not a string
		}
		if got != want {
			t.Fatalf("bodyWriteKey = %q, encoding/json reads %q", got, want)
		}
	})
}
