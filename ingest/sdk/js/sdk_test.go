package js_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citypulse/citypulse/internal/testenv"
)

// scenario drives one page in its own tab and origin, checks what reached the collector, and
// returns the checks of the warehouse rows, run after the pipeline.
type scenario func(t *testing.T, s *stack, tab context.Context) (rows func(t *testing.T))

// TestBrowserSDK runs the built SDK in headless Chromium against the real collector, broker,
// pipeline and ClickHouse: one browser, one tab and origin per scenario, one pipeline run at the
// end, then the rows of each scenario.
func TestBrowserSDK(t *testing.T) {
	distFile(t, "citypulse.min.js")
	s := newStack(t)
	browser := testenv.Chromium(t)
	type check struct {
		name string
		rows func(t *testing.T)
	}
	var checks []check
	for _, sc := range []struct {
		name string
		run  scenario
	}{
		{"page views and SPA routes", pageViews},
		{"ESM build", esmBuild},
		{"click capture", clickCapture},
		{"identify stitching", identifyStitching},
		{"calls before init", callsBeforeInit},
		{"offline then online", offlineThenOnline},
		{"reload with a queued batch", reloadQueued},
		{"sendBeacon on page hide", beaconOnHide},
		{"consent off stops sending", consentOff},
		{"retries and refusals", retries},
		{"gzip: batches over the threshold", gzipBatches},
		{"gzip: 415 to a gzip body, resent plain", gzipRefused},
		{"gzip: compress false sends plain", compressOff},
		{"gzip: threshold above the batch sends plain", thresholdAbove},
		{"gzip: no CompressionStream sends plain", noCompressionStream},
		{"gzip: CompressionStream throws, sends plain", compressionThrows},
		{"gzip: compression fails midway, sends plain", compressionFails},
		{"gzip: the collector refuses a gzip beacon", gzipBeacon},
	} {
		var rows func(*testing.T)
		if t.Run(sc.name, func(t *testing.T) { rows = sc.run(t, s, newTab(t, browser)) }) && rows != nil {
			checks = append(checks, check{sc.name, rows})
		}
	}
	res := s.RunOnce()
	t.Logf("pipeline: %d read, %d written, %d duplicates, %d dead letters", res.Read, res.Written, res.Duplicates, res.DeadLetters)
	for _, c := range checks {
		t.Run("rows/"+c.name, c.rows)
	}
}

// rows counts the distinct events of the anonymous id in dwd_events that match cond.
func (s *stack) rows(t *testing.T, anon, cond string, args ...any) uint64 {
	t.Helper()
	return s.Count("SELECT uniqExact(message_id) FROM dwd_events FINAL WHERE anonymous_id = ? AND ("+cond+")", append([]any{anon}, args...)...)
}

func pageViews(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: map[string]any{
		"app": map[string]any{"name": "市民云", "version": "5.2.0"}, "regionCode": "510104017001", "flushInterval": 100}})
	first := site.url("/app/home?utm_source=wechat&utm_medium=social&utm_campaign=spring")
	open(t, tab, first)
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	if !uuidRE.MatchString(anon) {
		t.Fatalf("anonymousId %q is not a UUID", anon)
	}
	run(t, tab, `history.pushState({}, '', '/app/services'); document.title = '服务列表'`)
	run(t, tab, `history.replaceState({}, '', '/app/services')`) // same address: no page view
	run(t, tab, `location.hash = 'detail'`)
	waitUntil(t, "three page views", func() (bool, string) { n := len(s.gate.delivered(anon)); return n >= 3, "" })
	run(t, tab, `history.back()`) // popstate and hashchange: one page view
	waitUntil(t, "four page views", func() (bool, string) { n := len(s.gate.delivered(anon)); return n >= 4, "" })
	open(t, tab, site.url("/app/other"))                    // a new load, same session
	open(t, tab, site.url("/app/home?utm_campaign=summer")) // a new campaign: a new session
	run(t, tab, `citypulse.track('marker')`)
	waitDelivered(t, s.gate, anon, "marker")

	evs := s.gate.delivered(anon)
	if got, want := names(evs), []string{"page", "page", "page", "page", "page", "page", "marker"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	wantPaths := []string{"/app/home", "/app/services", "/app/services", "/app/services", "/app/other", "/app/home"}
	seen := map[string]bool{}
	for i, e := range evs[:6] {
		if p := field(e, "properties", "path"); p != wantPaths[i] || field(e, "context", "page", "path") != p {
			t.Errorf("page %d: path %q (context %q), want %q", i, p, field(e, "context", "page", "path"), wantPaths[i])
		}
		id := field(e, "messageId")
		if !uuidRE.MatchString(id) || seen[id] {
			t.Errorf("page %d: messageId %q is not a fresh UUID", i, id)
		}
		seen[id] = true
		for _, f := range [][]string{{"context", "userAgent"}, {"context", "locale"}, {"context", "screen", "width"}, {"timestamp"}} {
			if field(e, f...) == "" {
				t.Errorf("page %d: %v is empty", i, f)
			}
		}
		if field(e, "context", "library", "name") != "citypulse-js" || field(e, "context", "app", "name") != "市民云" ||
			field(e, "context", "region_code") != "510104017001" {
			t.Errorf("page %d: context %v", i, e["context"])
		}
	}
	if c := field(evs[0], "context", "campaign", "name"); c != "spring" || field(evs[0], "context", "campaign", "source") != "wechat" {
		t.Errorf("first page campaign %v, want spring from wechat", evs[0]["context"])
	}
	if r := field(evs[1], "properties", "referrer"); r != first {
		t.Errorf("SPA page referrer %q, want %q", r, first)
	}
	if title := field(evs[1], "properties", "title"); title != "服务列表" {
		t.Errorf("SPA page title %q, want the title the app set after pushState", title)
	}
	if u := field(evs[2], "context", "page", "url"); u != site.url("/app/services#detail") {
		t.Errorf("hash page url %q", u)
	}
	sess := field(evs[0], "context", "session_id")
	for i, e := range evs[:5] {
		if field(e, "context", "session_id") != sess {
			t.Errorf("page %d: session %q, want %q (no campaign change, no inactivity)", i, field(e, "context", "session_id"), sess)
		}
	}
	if s2 := field(evs[5], "context", "session_id"); s2 == "" || s2 == sess {
		t.Errorf("a new campaign kept session %q", s2)
	}
	for _, r := range s.gate.requests(anon) {
		if _, err := time.Parse(time.RFC3339Nano, r.SentAt); err != nil {
			t.Errorf("batch sentAt %q: %v", r.SentAt, err)
		}
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "type = 'page' AND region_code = '510104017001' AND app = '市民云'"); n != 6 {
			t.Errorf("%d page rows with region and app, want 6", n)
		}
		if n := s.Count("SELECT uniqExact(session_id) FROM dwd_events FINAL WHERE anonymous_id = ? AND session_id != ''", anon); n != 2 {
			t.Errorf("%d sessions, want 2", n)
		}
		if n := s.rows(t, anon, "event = 'marker'"); n != 1 {
			t.Errorf("%d marker rows, want 1", n)
		}
	}
}

func esmBuild(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, ESM: true, Options: map[string]any{"flushInterval": 100, "autoPage": false}})
	open(t, tab, site.url("/esm"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	run(t, tab, `citypulse.track('esm_loaded', {build: 'esm'}); citypulse.flush()`)
	waitDelivered(t, s.gate, anon, "esm_loaded")
	if got := names(s.gate.delivered(anon)); len(got) != 1 {
		t.Errorf("events %v, want only esm_loaded (autoPage off)", got)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "event = 'esm_loaded'"); n != 1 {
			t.Errorf("%d esm_loaded rows, want 1", n)
		}
	}
}

func clickCapture(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: map[string]any{"flushInterval": 100, "regionCode": "510105001001"}})
	open(t, tab, site.url("/services"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#apply-label")), chromedp.Click(chromedp.CSS("#untracked"))); err != nil {
		t.Fatal(err)
	}
	run(t, tab, `citypulse.track('marker')`)
	got := waitDelivered(t, s.gate, anon, "service_apply", "marker")
	if n := names(s.gate.delivered(anon)); !slices.Equal(n, []string{"page", "service_apply", "marker"}) {
		t.Errorf("events %v, want page, service_apply, marker (the untracked button sends nothing)", n)
	}
	e := got["service_apply"]
	if field(e, "properties", "service_id") != "12" || field(e, "properties", "channel") != "banner" || field(e, "context", "service_id") != "12" {
		t.Errorf("click event %v, want data-cp-* properties and context.service_id 12", e)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "event = 'service_apply' AND service_id = 12 AND region_code = '510105001001'"); n != 1 {
			t.Errorf("%d service_apply rows for service 12 in 510105001001, want 1", n)
		}
	}
}

// callsBeforeInit: a page calls the SDK before init (its script loaded late): the calls are
// sent by init after its page view, with the times they were made, up to 100 of them.
func callsBeforeInit(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	const user = "user-early"
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: map[string]any{"flushInterval": 100},
		PreInit: `citypulse.track('early_click', {n: 1}); citypulse.identify('` + user + `');
for (let i = 0; i < 150; i++) citypulse.track('flood', {i: i});`})
	open(t, tab, site.url("/late"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	got := waitDelivered(t, s.gate, anon, "page", "early_click", "alias", "identify", "flood")
	var floods int
	var order []string
	waitUntil(t, "98 flood events", func() (bool, string) {
		floods, order = 0, nil
		for _, e := range s.gate.delivered(anon) {
			if n := evName(e); n == "flood" {
				floods++
			} else {
				order = append(order, n)
			}
		}
		return floods >= 98, fmt.Sprintf("%d flood events", floods)
	})
	run(t, tab, `citypulse.flush()`)
	floods = 0
	for _, e := range s.gate.delivered(anon) {
		if evName(e) == "flood" {
			floods++
		}
	}
	if !slices.Equal(order, []string{"page", "early_click", "alias", "identify"}) {
		t.Errorf("events %v, want the page view, then the early calls in order", order)
	}
	if floods != 98 { // 100 calls kept: early_click, identify and 98 floods
		t.Errorf("%d flood events, want 98", floods)
	}
	if e := got["early_click"]; field(e, "timestamp") > field(got["page"], "timestamp") || field(e, "properties", "n") != "1" {
		t.Errorf("early_click %v: want its own earlier time (page view at %s)", e, field(got["page"], "timestamp"))
	}
	if e := got["identify"]; field(e, "userId") != user {
		t.Errorf("identify %v, want userId %s", e, user)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "event = 'early_click'"); n != 1 {
			t.Errorf("early_click rows: %d, want 1", n)
		}
	}
}

func identifyStitching(t *testing.T, s *stack, tab context.Context) func(*testing.T) {
	const user = "user-42"
	site := newSite(t, pageOpts{Endpoint: s.URL, Options: map[string]any{"flushInterval": 100}})
	open(t, tab, site.url("/login"))
	anon := eval[string](t, tab, `citypulse.anonymousId()`)
	run(t, tab, `citypulse.track('browse')`)
	run(t, tab, `citypulse.identify('`+user+`', {district: '锦江区'}); citypulse.track('after_login')`)
	got := waitDelivered(t, s.gate, anon, "page", "browse", "alias", "identify", "after_login")
	if n := names(s.gate.delivered(anon)); !slices.Equal(n, []string{"page", "browse", "alias", "identify", "after_login"}) {
		t.Errorf("events %v", n)
	}
	if a := got["alias"]; field(a, "previousId") != anon || field(a, "userId") != user {
		t.Errorf("alias %v, want previousId %s and userId %s", a, anon, user)
	}
	if id := got["identify"]; field(id, "userId") != user || field(id, "traits", "district") != "锦江区" {
		t.Errorf("identify %v", id)
	}
	if e := got["after_login"]; field(e, "userId") != user || field(e, "anonymousId") != anon {
		t.Errorf("after login %v, want userId %s and anonymousId %s", e, user, anon)
	}
	if e := got["browse"]; field(e, "userId") != "" {
		t.Errorf("before login %v carries a userId", e)
	}
	if u := eval[string](t, tab, `citypulse.userId()`); u != user {
		t.Errorf("userId() %q", u)
	}
	// The same user again: no second alias. Logout: a new anonymous id, no user.
	run(t, tab, `citypulse.identify('`+user+`')`)
	run(t, tab, `citypulse.reset()`)
	if u := eval[*string](t, tab, `citypulse.userId()`); u != nil {
		t.Errorf("userId() after reset: %q", *u)
	}
	if a := eval[string](t, tab, `citypulse.anonymousId()`); a == anon || !uuidRE.MatchString(a) {
		t.Errorf("anonymousId() after reset: %q", a)
	}
	run(t, tab, `citypulse.flush()`)
	aliases := 0
	for _, e := range s.gate.delivered(anon) {
		if e["type"] == "alias" {
			aliases++
		}
	}
	if aliases != 1 {
		t.Errorf("%d alias events, want 1", aliases)
	}
	return func(t *testing.T) {
		if n := s.rows(t, anon, "user_id = '' AND type IN ('page', 'track')"); n != 2 {
			t.Errorf("%d anonymous rows before login, want 2 (page, browse)", n)
		}
		if n := s.rows(t, anon, "user_id = ? AND type IN ('identify', 'track')", user); n < 2 {
			t.Errorf("%d rows of %s after login, want identify and after_login", n, user)
		}
		// The alias row joins the anonymous history to the user.
		if n := s.Count("SELECT uniqExact(message_id) FROM dwd_events FINAL WHERE type = 'alias' AND user_id = ? AND anonymous_id = ?", user, anon); n != 1 {
			t.Errorf("%d alias rows joining %s to %s in dwd_events, want 1", n, anon, user)
		}
	}
}
