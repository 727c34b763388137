package signature

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var now = time.Unix(1_767_225_600, 0)

func signed(t *testing.T, secret string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/feeds/person", strings.NewReader("a,b\n1,2\n"))
	Sign(req, "shebao", []byte(secret), BodySHA256([]byte("a,b\n1,2\n")), now)
	return req
}

func TestVerify(t *testing.T) {
	req := signed(t, "s2")
	p, err := Parse(req.Header)
	if err != nil {
		t.Fatal(err)
	}
	body := BodySHA256([]byte("a,b\n1,2\n"))
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		secrets      []string
		want         int
	}{
		{"second secret of a rotation", "POST", "/v1/feeds/person", body, []string{"s1", "s2"}, 1},
		{"only secret", "post", "/v1/feeds/person", body, []string{"s2"}, 0},
		{"wrong secret", "POST", "/v1/feeds/person", body, []string{"s1"}, -1},
		{"no secret", "POST", "/v1/feeds/person", body, nil, -1},
		{"other path", "POST", "/v1/feeds/house", body, []string{"s2"}, -1},
		{"other method", "PUT", "/v1/feeds/person", body, []string{"s2"}, -1},
		{"other body", "POST", "/v1/feeds/person", BodySHA256([]byte("x")), []string{"s2"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var secrets [][]byte
			for _, s := range tc.secrets {
				secrets = append(secrets, []byte(s))
			}
			got, err := Verify(p, tc.method, tc.path, req.Header, tc.body, secrets)
			if got != tc.want || (err == nil) != (tc.want >= 0) {
				t.Fatalf("Verify = %d, %v; want %d", got, err, tc.want)
			}
			if err != nil && !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error %v does not match ErrUnauthenticated", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	good := signed(t, "s").Header
	for _, tc := range []struct {
		header, value, wantHeader, wantReason string
	}{
		{"", "", "", ""},
		{HeaderSource, "", HeaderSource, "missing"},
		{HeaderSource, "a b", HeaderSource, "want 1 to 64"},
		{HeaderTimestamp, "", HeaderTimestamp, "missing"},
		{HeaderTimestamp, "-5", HeaderTimestamp, "Unix seconds"},
		{HeaderTimestamp, "12.5", HeaderTimestamp, "Unix seconds"},
		{HeaderNonce, "short", HeaderNonce, "want 16 to 128"},
		{HeaderNonce, "", HeaderNonce, "missing"},
		{HeaderSignature, "zz", HeaderSignature, "hex digits"},
		{HeaderSignature, "abcd", HeaderSignature, "hex digits"},
		{HeaderSignature, "", HeaderSignature, "missing"},
	} {
		h := good.Clone()
		if tc.header != "" {
			h.Set(tc.header, tc.value)
		}
		_, err := Parse(h)
		var e *Error
		if tc.wantHeader == "" {
			if err != nil {
				t.Errorf("good headers: %v", err)
			}
			continue
		}
		if !errors.As(err, &e) || e.Header != tc.wantHeader || !strings.Contains(e.Reason, tc.wantReason) {
			t.Errorf("%s=%q: got %v; want %s: …%s…", tc.header, tc.value, err, tc.wantHeader, tc.wantReason)
		}
	}
}

func TestCheckTime(t *testing.T) {
	for _, tc := range []struct {
		skew time.Duration
		ok   bool
	}{
		{0, true}, {5 * time.Minute, true}, {-5 * time.Minute, true},
		{5*time.Minute + time.Second, false}, {-6 * time.Minute, false}, {-24 * time.Hour, false},
	} {
		p := Params{Timestamp: now.Add(tc.skew).Unix()}
		if err := CheckTime(p, now, 5*time.Minute); (err == nil) != tc.ok {
			t.Errorf("skew %s: %v; want ok=%v", tc.skew, err, tc.ok)
		}
	}
}

func TestNonceCache(t *testing.T) {
	w := 5 * time.Minute
	c := NewNonceCache(3, w)
	p := func(src, nonce string, ts time.Time) Params {
		return Params{Source: src, Nonce: nonce, Timestamp: ts.Unix()}
	}
	steps := []struct {
		p  Params
		at time.Time
		ok bool
	}{
		{p("a", "n1", now), now, true},
		{p("a", "n1", now), now, false},                        // replay
		{p("b", "n1", now), now, true},                         // same nonce, other source
		{p("a", "n2", now.Add(time.Second)), now, true},        // cache now full (3)
		{p("a", "n3", now.Add(2*time.Second)), now, true},      // evicts the oldest (ts=now): floor=now
		{p("a", "n4", now), now, false},                        // at the floor: could be a forgotten replay
		{p("a", "n3", now.Add(2*time.Second)), now, false},     // still remembered
		{p("a", "n1", now), now.Add(w + 2*time.Second), false}, // at the floor still
		{p("a", "n5", now.Add(w+3*time.Second)), now.Add(w + 3*time.Second), true},
	}
	for i, s := range steps {
		if err := c.Check(s.p, s.at); (err == nil) != s.ok {
			t.Fatalf("step %d (%s/%s): %v; want ok=%v", i, s.p.Source, s.p.Nonce, err, s.ok)
		}
	}
	if c.Len() > 3 {
		t.Fatalf("cache holds %d entries, bound is 3", c.Len())
	}
}

func TestVerifyCoversHeaders(t *testing.T) {
	body := BodySHA256([]byte("a,b\n1,2\n"))
	for _, name := range SignedHeaders {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/feeds/person", strings.NewReader("a,b\n1,2\n"))
			req.Header.Set("Content-Type", "text/csv; charset=utf-8")
			Sign(req, "shebao", []byte("s"), body, time.Now())
			p, err := Parse(req.Header)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(p, "POST", "/v1/feeds/person", req.Header, body, [][]byte{[]byte("s")}); err != nil {
				t.Fatalf("as signed: %v", err)
			}
			req.Header.Set(name, req.Header.Get(name)+"x")
			if _, err := Verify(p, "POST", "/v1/feeds/person", req.Header, body, [][]byte{[]byte("s")}); err == nil {
				t.Fatalf("%s changed after signing: verified", name)
			}
		})
	}
}
