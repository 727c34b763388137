package analytics

import (
	"net/http"
	"testing"
	"time"
)

func items(n int) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = item{msg: Track{MessageID: string(rune('a' + i)), AnonymousID: "x", Event: "e"}}
	}
	return out
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		n        int
		accepted int
		rejected int
		field    string // of the first rejection
		hasMsg   bool   // the first rejection names a message of the batch
	}{
		{"all accepted", `{"success":true,"accepted":3,"rejected":[]}`, 3, 3, 0, "", false},
		{"one rejected", `{"success":true,"accepted":2,"rejected":[{"index":1,"messageId":"b","field":"context.region_code","code":"invalid","reason":"must be 12 digits"}]}`, 3, 2, 1, "context.region_code", true},
		{"plan violation", `{"accepted":0,"rejected":[{"index":0,"field":"properties.hospital","code":"plan","event":"booked","rule":"required","reason":"required"}]}`, 1, 0, 1, "properties.hospital", true},
		{"segment answer", `{"success":true}`, 4, 4, 0, "", false},
		{"empty body", ``, 2, 2, 0, "", false},
		{"not JSON", `<html>ok</html>`, 2, 2, 0, "", false},
		{"accepted over the batch", `{"accepted":99}`, 2, 2, 0, "", false},
		{"negative accepted", `{"accepted":-5}`, 2, 0, 0, "", false},
		{"index out of range", `{"accepted":1,"rejected":[{"index":7,"field":"x","reason":"r"}]}`, 2, 1, 1, "x", false},
		{"more rejections than events", `{"rejected":[{"index":0},{"index":1},{"index":0}]}`, 2, 0, 2, "", true},
		{"rejected not an array", `{"accepted":2,"rejected":{"index":0}}`, 2, 2, 0, "", false},
		{"unreadable rejection", `{"accepted":1,"rejected":["nope"]}`, 2, 1, 1, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := parseAnswer([]byte(tc.body), items(tc.n))
			if a.accepted != tc.accepted || len(a.rejected) != tc.rejected {
				t.Fatalf("got %d accepted, %d rejected; want %d, %d", a.accepted, len(a.rejected), tc.accepted, tc.rejected)
			}
			if tc.rejected > 0 {
				r := a.rejected[0]
				if r.Field != tc.field || (r.Message != nil) != tc.hasMsg {
					t.Fatalf("first rejection %+v: want field %q, message %v", r, tc.field, tc.hasMsg)
				}
				if tc.hasMsg && r.Message.(Track).MessageID != string(rune('a'+r.Index)) {
					t.Fatalf("rejection %d carries message %+v", r.Index, r.Message)
				}
			}
		})
	}
}

// FuzzParseAnswer: whatever a server answers, the counts stay within the batch and a
// rejection only carries a message of the batch at its own index.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"accepted":3,"rejected":[]}`,
		`{"accepted":1,"rejected":[{"index":1,"messageId":"b","field":"context.region_code","code":"invalid","reason":"r"}]}`,
		`{"accepted":-1,"rejected":[{"index":-3},{"index":99999999999}]}`,
		`{"rejected":[null,1,"x",{"index":"1"}]}`,
		`{"success":true}`, ``, `null`, `[]`, `{"accepted":1e99}`,
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		batch := items(int(n % 50))
		a := parseAnswer(body, batch)
		if a.accepted < 0 || a.accepted+len(a.rejected) > len(batch) {
			t.Fatalf("%d accepted and %d rejected of %d", a.accepted, len(a.rejected), len(batch))
		}
		for _, r := range a.rejected {
			if r.Message != nil && (r.Index < 0 || r.Index >= len(batch) || r.Message.(Track).MessageID != batch[r.Index].msg.(Track).MessageID) {
				t.Fatalf("rejection %+v carries a message not at its index", r)
			}
		}
		_ = errorMessage(body)
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"0", 0},
		{"-4", 0},
		{"86400", maxRetryAfter},
		{"99999999999999999999", 0},
		{now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.h, got, tc.want)
		}
	}
}

// FuzzRetryAfter: the header is outside input; the wait stays in 0…maxRetryAfter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "-1", "9223372036854775807", "Fri, 01 May 2026 08:00:20 GMT", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %s", h, d)
		}
	})
}

func TestBackoff(t *testing.T) {
	c := &Client{cfg: config{minBackoff: 100 * time.Millisecond, maxBackoff: 2 * time.Second}}
	for n := 1; n <= 70; n++ {
		full := min(100*time.Millisecond<<min(n-1, 30), 2*time.Second)
		for range 20 {
			if d := c.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want %s…%s", n, d, full/2, full)
			}
		}
	}
}
