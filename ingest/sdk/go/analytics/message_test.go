package analytics

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWire(t *testing.T) {
	ts := time.Date(2026, 5, 1, 8, 30, 0, 0, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		name string
		msg  Message
		want string // JSON, or the error text
	}{
		{"track", Track{MessageID: "m1", UserID: "u1", Event: "service_open", Timestamp: ts,
			Properties: Properties{"service_id": 12},
			Context:    &Context{RegionCode: "510104017001", ServiceID: 12, SessionID: "s1", App: App{Name: "市民云"}, Network: Network{WiFi: true}}},
			`{"type":"track","messageId":"m1","userId":"u1","event":"service_open","timestamp":"2026-05-01T00:30:00Z","context":{"app":{"name":"市民云"},"network":{"wifi":true},"region_code":"510104017001","service_id":12,"session_id":"s1"},"properties":{"service_id":12}}`},
		{"page", Page{MessageID: "m2", AnonymousID: "a1", Name: "办事指南", Timestamp: ts},
			`{"type":"page","messageId":"m2","anonymousId":"a1","name":"办事指南","timestamp":"2026-05-01T00:30:00Z"}`},
		{"screen", Screen{MessageID: "m3", AnonymousID: "a1", Name: "实时公交", Timestamp: ts},
			`{"type":"screen","messageId":"m3","anonymousId":"a1","name":"实时公交","timestamp":"2026-05-01T00:30:00Z"}`},
		{"identify", Identify{MessageID: "m4", UserID: "u1", AnonymousID: "a1", Traits: Traits{"age_band": "30-39"}, Timestamp: ts},
			`{"type":"identify","messageId":"m4","userId":"u1","anonymousId":"a1","timestamp":"2026-05-01T00:30:00Z","traits":{"age_band":"30-39"}}`},
		{"alias", Alias{MessageID: "m5", PreviousID: "a1", UserID: "u1", Timestamp: ts},
			`{"type":"alias","messageId":"m5","userId":"u1","previousId":"a1","timestamp":"2026-05-01T00:30:00Z"}`},
		{"context extra", Track{MessageID: "m6", UserID: "u1", Event: "e", Timestamp: ts,
			Context: &Context{RegionCode: "510104017001", Extra: map[string]any{"region_code": "shadowed", "channel": "wechat"}}},
			`{"type":"track","messageId":"m6","userId":"u1","event":"e","timestamp":"2026-05-01T00:30:00Z","context":{"channel":"wechat","region_code":"510104017001"}}`},
		{"no id", Track{Event: "e"}, "UserID or AnonymousID is required"},
		{"track without event", Track{UserID: "u"}, "Event is required"},
		{"alias without previous id", Alias{UserID: "u"}, "PreviousID is required"},
		{"alias without user id", Alias{PreviousID: "a"}, "UserID is required"},
		{"long user id", Page{UserID: strings.Repeat("u", 257)}, "UserID is 257 characters"},
		{"long message id", Page{UserID: "u", MessageID: strings.Repeat("m", 101)}, "MessageID is 101 characters"},
		{"unencodable property", Track{UserID: "u", Event: "e", Properties: Properties{"f": func() {}}}, "unsupported type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encode(tc.msg.complete(ts))
			if strings.HasPrefix(tc.want, "{") {
				if err != nil || string(got) != tc.want {
					t.Fatalf("got %s (%v)\nwant %s", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

// encode is what Enqueue does before queueing.
func encode(m Message) ([]byte, error) {
	w, err := m.wire()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, errors.Join(ErrInvalid, err)
	}
	return b, nil
}

func TestCompleteFillsDefaults(t *testing.T) {
	now := time.Now()
	m := Track{UserID: "u", Event: "e"}.complete(now).(Track)
	if len(m.MessageID) != 32 || !m.Timestamp.Equal(now) {
		t.Fatalf("completed %+v, want a 32-hex messageId and the timestamp now", m)
	}
	if n := (Track{UserID: "u", Event: "e"}.complete(now).(Track)); n.MessageID == m.MessageID {
		t.Fatal("two messages got the same messageId")
	}
	kept := Track{MessageID: "mine", Timestamp: now.Add(-time.Hour)}.complete(now).(Track)
	if kept.MessageID != "mine" || !kept.Timestamp.Equal(now.Add(-time.Hour)) {
		t.Fatalf("completed %+v, want the given messageId and timestamp kept", kept)
	}
}

func TestEnvelope(t *testing.T) {
	env, err := newEnvelope(&Context{App: App{Name: "svc"}})
	if err != nil {
		t.Fatal(err)
	}
	its := []item{{data: []byte(`{"a":1}`)}, {data: []byte(`{"b":2}`)}}
	sentAt := time.Date(2026, 5, 1, 8, 30, 0, 123456789, time.UTC)
	got := env.body(its, sentAt)
	want := `{"batch":[{"a":1},{"b":2}],"sentAt":"2026-05-01T08:30:00.123Z","context":{"app":{"name":"svc"},"library":{"name":"citypulse-go","version":"` + Version + `"}}}`
	if string(got) != want {
		t.Fatalf("body %s\nwant %s", got, want)
	}
	if len(got) != env.overhead()+len(its)-1+len(`{"a":1}{"b":2}`) {
		t.Fatalf("overhead %d does not match a body of %d bytes", env.overhead(), len(got))
	}
	if len(env.body(nil, sentAt)) != env.overhead() {
		t.Fatal("overhead is not the size of an empty batch")
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name, key, endpoint string
		opts                []Option
		want                string
	}{
		{"no key", "", "http://x", nil, "write key"},
		{"relative endpoint", "k", "/v1", nil, "base URL"},
		{"ftp endpoint", "k", "ftp://x", nil, "base URL"},
		{"queue", "k", "http://x", []Option{WithQueueSize(0)}, "WithQueueSize(0)"},
		{"batch", "k", "http://x", []Option{WithBatchSize(-1)}, "WithBatchSize(-1)"},
		{"batch bytes below one event", "k", "http://x", []Option{WithMaxBatchBytes(MaxEventBytes)}, "WithMaxBatchBytes"},
		{"flush", "k", "http://x", []Option{WithFlushInterval(0)}, "WithFlushInterval"},
		{"block", "k", "http://x", []Option{WithBlockTimeout(-time.Second)}, "WithBlockTimeout"},
		{"attempts", "k", "http://x", []Option{WithMaxAttempts(0)}, "WithMaxAttempts"},
		{"backoff", "k", "http://x", []Option{WithBackoff(time.Second, time.Millisecond)}, "WithBackoff"},
		{"concurrency", "k", "http://x", []Option{WithConcurrency(0)}, "WithConcurrency"},
		{"two at once", "k", "http://x", []Option{WithQueueSize(0), WithConcurrency(0)}, "WithConcurrency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.key, tc.endpoint, tc.opts...)
			if err == nil {
				_ = c.Close(t.Context())
				t.Fatalf("New accepted it, want an error about %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to mention %s", err, tc.want)
			}
		})
	}
}

func TestBatchURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080/v1/batch",
		"https://collect.example.gov/":   "https://collect.example.gov/v1/batch",
		"https://gw.example.gov/collect": "https://gw.example.gov/collect/v1/batch",
	} {
		c, err := New("k", in)
		if err != nil {
			t.Fatal(err)
		}
		if c.batchURL != want {
			t.Errorf("%s: batch URL %s, want %s", in, c.batchURL, want)
		}
		if err := c.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnqueueRefuses(t *testing.T) {
	var reasons []string
	c, err := New("k", "http://127.0.0.1:1", WithDropHandler(func(r string, _ []Message, _ error) { reasons = append(reasons, r) }))
	if err != nil {
		t.Fatal(err)
	}
	huge := Track{UserID: "u", Event: "e", Properties: Properties{"x": strings.Repeat("x", MaxEventBytes)}}
	for _, tc := range []struct {
		msg  Message
		want error
	}{{nil, ErrInvalid}, {Track{Event: "e"}, ErrInvalid}, {huge, ErrTooLarge}} {
		if err := c.Enqueue(tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("Enqueue(%T) = %v, want %v", tc.msg, err, tc.want)
		}
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.Page(Page{UserID: "u"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	st := c.Stats()
	if st.Enqueued != 0 || st.Dropped[DropInvalid] != 2 || st.Dropped[DropTooLarge] != 1 || st.Dropped[DropClosed] != 1 ||
		strings.Join(reasons, ",") != "invalid,invalid,too_large,closed" {
		t.Fatalf("stats %+v, drop handler %v", st, reasons)
	}
}
