package js_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// waitLimit bounds each wait for the browser or the collector; the SDK normally takes well under
// a second (the tests set short flush intervals and retry delays).
const waitLimit = 20 * time.Second

// newTab opens a tab in the test's browser, closed when the (sub)test ends.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	return ctx
}

// open loads url in the tab and waits until the SDK has started.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	waitUntil(t, "the SDK to start on "+url, func() (bool, string) {
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.citypulse ? citypulse.anonymousId() : ''`))
		return err == nil && id != "", fmt.Sprintf("anonymousId %q, err %v", id, err)
	})
}

// eval evaluates js in the tab (awaiting a promise result) and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// run evaluates js for its effect.
func run(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	eval[chromedp.Void](t, ctx, js)
}

// sdkStats is citypulse.stats().
type sdkStats struct {
	Queued   int `json:"queued"`
	Dropped  int `json:"dropped"`
	Sent     int `json:"sent"`
	Rejected int `json:"rejected"`
	Failures int `json:"failures"`
}

func stats(t *testing.T, ctx context.Context) sdkStats {
	t.Helper()
	return eval[sdkStats](t, ctx, `citypulse.stats()`)
}

// waitStats waits until the SDK's counters satisfy ok.
func waitStats(t *testing.T, ctx context.Context, what string, ok func(sdkStats) bool) sdkStats {
	t.Helper()
	var last sdkStats
	waitUntil(t, what, func() (bool, string) {
		last = stats(t, ctx)
		return ok(last), fmt.Sprintf("stats %+v", last)
	})
	return last
}

// waitUntil polls cond until it holds, and fails the test with cond's last word when it never does.
func waitUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", waitLimit, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDelivered waits until the collector accepted every named event (track: its event name;
// page: "page", identify and alias: their type) of the anonymous id, and returns them by name
// (the last of each name).
func waitDelivered(t *testing.T, g *gate, anon string, names ...string) map[string]map[string]any {
	t.Helper()
	var got map[string]map[string]any
	waitUntil(t, fmt.Sprintf("the collector to accept %v", names), func() (bool, string) {
		got = map[string]map[string]any{}
		for _, e := range g.delivered(anon) {
			got[evName(e)] = e
		}
		for _, n := range names {
			if got[n] == nil {
				return false, fmt.Sprintf("accepted so far: %v", keys(got))
			}
		}
		return true, ""
	})
	return got
}

// evName is a track event's name, else the event's type.
func evName(e map[string]any) string {
	if e["type"] == "track" {
		s, _ := e["event"].(string)
		return s
	}
	s, _ := e["type"].(string)
	return s
}

// names lists the event names of events in order.
func names(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = evName(e)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// field digs a string out of nested JSON objects: field(e, "context", "page", "path").
func field(e map[string]any, path ...string) string {
	var v any = e
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// setOffline cuts the tab off from the collector (navigator.onLine false, requests to the
// collector's origin fail) or connects it again. The page's own server stays reachable.
func setOffline(t *testing.T, ctx context.Context, collectorURL string, offline bool) {
	t.Helper()
	var rules []*network.Conditions
	if offline {
		rules = append(rules, &network.Conditions{URLPattern: collectorURL + "/*", Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	if err != nil {
		t.Fatalf("set offline %v: %v", offline, err)
	}
}
