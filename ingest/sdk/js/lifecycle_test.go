package js_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// fast are options that make the SDK send and retry quickly, for tests.
func fast(extra map[string]any) map[string]any {
	o := map[string]any{"flushInterval": 100, "retryBase": 100, "retryMax": 500}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// offlineThenOnline: events tracked offline wait in the capped queue (the oldest dropped and
// counted) and go out when the browser is back online.
func offlineThenOnline(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: fast(map[string]any{"maxQueue": 6})})
	open(t, tab, site.url("/offline"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	waitDelivered(t, s.gate, anon, "page")
	// The collector having the page view is not the SDK having its answer: until then the page
	// view is still queued, and would count against the cap below.
	waitStats(t, tab, "the page view acknowledged", func(st sdkStats) bool { return st.Queued == 0 })

	setOffline(t, tab, s.URL, true)
	if eval[bool](t, tab, `navigator.onLine`) {
		t.Fatal("navigator.onLine is still true")
	}
	run(t, tab, `for (let i = 1; i <= 8; i++) citypulse.track('o' + i)`)
	st := waitStats(t, tab, "a failed attempt with 6 queued", func(st sdkStats) bool { return st.Failures > 0 && st.Queued == 6 })
	if st.Dropped != 2 {
		t.Errorf("dropped %d, want 2 (8 events into a queue of 6)", st.Dropped)
	}
	if got := names(s.gate.delivered(anon)); len(got) != 1 {
		t.Fatalf("the collector got %v while offline", got)
	}

	setOffline(t, tab, s.URL, false)
	waitDelivered(t, s.gate, anon, "o3", "o4", "o5", "o6", "o7", "o8")
	if got, want := names(s.gate.delivered(anon)), []string{"page", "o3", "o4", "o5", "o6", "o7", "o8"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v (o1, o2 dropped by the cap)", got, want)
	}
	waitStats(t, tab, "an empty queue", func(st sdkStats) bool { return st.Queued == 0 && st.Failures == 0 })
	return func(t *testing.T) {
		if n := s.rows(t, anon, "type = 'track'"); n != 6 {
			t.Errorf("%d track rows, want 6", n)
		}
		if n := s.rows(t, anon, "event IN ('o1', 'o2')"); n != 0 {
			t.Errorf("%d rows of dropped events", n)
		}
	}
}

// reloadQueued: with the collector unreachable, the queue is in localStorage; a reload keeps it
// (no beacon into the void), adopts the queue a closed tab left, and all is sent once the
// collector is back.
func reloadQueued(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: fast(nil)})
	s.gate.setDown(true)
	defer s.gate.setDown(false)
	open(t, tab, site.url("/queued"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	run(t, tab, `citypulse.track('q1'); citypulse.track('q2')`)
	waitStats(t, tab, "a failed attempt with 3 queued", func(st sdkStats) bool { return st.Failures > 0 && st.Queued == 3 })
	stored := eval[int](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('citypulse.q.'))
		.reduce((n, k) => n + JSON.parse(localStorage.getItem(k)).e.length, 0)`)
	if stored != 3 {
		t.Fatalf("%d events in localStorage, want 3", stored)
	}

	// A queue another tab left behind (closed long ago) is adopted too, in time order.
	run(t, tab, `(() => {
		const q = JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('citypulse.q.'))));
		const e = Object.assign({}, q.e[1], {messageId: crypto.randomUUID(), event: 'orphan',
			timestamp: new Date(Date.parse(q.e[0].timestamp) - 1000).toISOString()});
		localStorage.setItem('citypulse.q.closed-tab', JSON.stringify({t: 0, e: [e]}));
	})()`)

	if err := chromedp.Do(tab, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitStats(t, tab, "the queue back after the reload, plus the orphan and a page view", func(st sdkStats) bool { return st.Queued == 5 && st.Failures > 0 })
	if a := eval[string](t, tab, `citypulse.anonymousId()`); a != anon {
		t.Errorf("anonymous id %q after reload, want %q", a, anon)
	}
	for _, r := range s.gate.requests(anon) {
		if r.Beacon {
			t.Errorf("a beacon was sent while the collector was failing: %v", names(r.Events))
		}
	}

	s.gate.setDown(false)
	waitDelivered(t, s.gate, anon, "page", "q1", "q2", "orphan")
	waitStats(t, tab, "an empty queue", func(st sdkStats) bool { return st.Queued == 0 })
	if got := names(s.gate.delivered(anon)); !slices.Equal(got, []string{"orphan", "page", "q1", "q2", "page"}) {
		t.Errorf("delivered %v, want orphan, page, q1, q2, page", got)
	}
	if n := eval[int](t, tab, `Object.keys(localStorage).filter((k) => k.startsWith('citypulse.q.')).length`); n != 0 {
		t.Errorf("%d queues left in localStorage", n)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "1"); n != 5 {
			t.Errorf("%d rows, want 5", n)
		}
	}
}

// beaconOnHide: what is queued when the page goes away leaves by navigator.sendBeacon, with the
// write key in the body, uncompressed even over the gzip threshold (see gzipBeacon).
func beaconOnHide(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: map[string]any{"flushInterval": 600000, "flushAt": 100}})
	open(t, tab, site.url("/leave"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	run(t, tab, `citypulse.track('leaving', {reason: 'done', note: 'x'.repeat(2000)})`) // over the gzip threshold
	if st := stats(t, tab); st.Queued != 2 {
		t.Fatalf("queued %d, want 2 (page, leaving)", st.Queued)
	}
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s.gate, anon, "page", "leaving")
	reqs := s.gate.requests(anon)
	if len(reqs) != 1 || !reqs[0].Beacon || reqs[0].Status != http.StatusOK || len(reqs[0].Events) != 2 {
		t.Errorf("requests %+v, want one beacon with both events, accepted", reqs)
	}
	if len(reqs) == 1 && (reqs[0].Encoding != "" || reqs[0].Gzip || reqs[0].Bytes <= defaultThreshold) {
		t.Errorf("beacon of %d bytes, Content-Encoding %q, gzip body %v: want a plain body over the gzip threshold", reqs[0].Bytes, reqs[0].Encoding, reqs[0].Gzip)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "event = 'leaving' OR type = 'page'"); n != 2 {
			t.Errorf("%d rows, want 2", n)
		}
	}
}

// consentOff: setConsent(false) clears the queue and stops collection, across reloads, until
// setConsent(true).
func consentOff(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: fast(nil)})
	open(t, tab, site.url("/consent"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	waitDelivered(t, s.gate, anon, "page")
	run(t, tab, `citypulse.track('before_optout'); citypulse.setConsent(false)`)
	run(t, tab, `citypulse.track('after_optout'); citypulse.flush()`)
	if st := stats(t, tab); st.Queued != 0 {
		t.Errorf("queued %d after consent off, want 0", st.Queued)
	}
	if err := chromedp.Do(tab, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	open(t, tab, site.url("/consent")) // a reload and a new load: the choice is stored
	run(t, tab, `citypulse.page(); citypulse.track('still_off'); citypulse.flush()`)
	if st := stats(t, tab); st.Queued != 0 {
		t.Errorf("queued %d with consent off after reload, want 0", st.Queued)
	}
	run(t, tab, `citypulse.setConsent(true); citypulse.track('after_optin'); citypulse.flush()`)
	waitDelivered(t, s.gate, anon, "after_optin")
	if got := names(s.gate.delivered(anon)); !slices.Equal(got, []string{"page", "after_optin"}) {
		t.Errorf("delivered %v, want only the page view before opting out and after_optin", got)
	}
	if got := len(s.gate.requests(anon)); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}

	// A page that asks first: nothing, not even the page view, until consent is given.
	asks := newSite(t, pageOpts{Endpoint: s.URL, Options: fast(map[string]any{"requireConsent": true})})
	open(t, tab, asks.url("/asks"))
	asked := eval[string](t, tab, `citypulse.anonymousId()`)
	if st := stats(t, tab); st.Queued != 0 {
		t.Errorf("queued %d before consent was given, want 0", st.Queued)
	}
	run(t, tab, `citypulse.setConsent(true); citypulse.track('granted'); citypulse.flush()`)
	waitDelivered(t, s.gate, asked, "granted")
	if got := names(s.gate.delivered(asked)); !slices.Equal(got, []string{"granted"}) {
		t.Errorf("delivered %v, want only granted", got)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "1"); n != 2 {
			t.Errorf("%d rows, want 2", n)
		}
		if n := s.rows(t, asked, "1"); n != 1 {
			t.Errorf("%d rows of the page that asked first, want 1", n)
		}
	}
}

// retries: 503 and 429 (with Retry-After) are retried until accepted; a refused write key (401)
// is dropped after one try.
func retries(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: fast(nil)})
	s.gate.failNext(http.StatusServiceUnavailable, http.StatusTooManyRequests)
	open(t, tab, site.url("/retry"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	waitDelivered(t, s.gate, anon, "page")
	var statuses []int
	for _, r := range s.gate.requests(anon) {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []int{503, 429, 200}) {
		t.Errorf("answers %v, want 503, 429, 200", statuses)
	}

	bad := newSite(t, pageOpts{Endpoint: s.URL, Key: "not-a-key", Options: fast(nil)})
	open(t, tab, bad.url("/bad-key"))
	badAnon := eval[string](t, tab, `citypulse.anonymousId()`)
	st := waitStats(t, tab, "the refused batch dropped", func(st sdkStats) bool { return st.Dropped > 0 && st.Queued == 0 })
	reqs := s.gate.requests(badAnon)
	if st.Dropped != 1 || len(reqs) != 1 || reqs[0].Status != http.StatusUnauthorized {
		t.Errorf("stats %+v, requests %s: want one 401, not retried, one event dropped", st, fmt.Sprint(len(reqs)))
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "type = 'page'"); n != 1 {
			t.Errorf("%d page rows, want 1", n)
		}
		if n := s.rows(t, badAnon, "1"); n != 0 {
			t.Errorf("%d rows sent with a bad key", n)
		}
	}
}
