package js_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// writeKey is the collector's development key (collector.DefaultConfig).
const writeKey = "citypulse-dev-key"

// distFile returns the path of a built SDK file. Without it the test is skipped, or fails when
// CI=true: the build is part of `make test`.
func distFile(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join("dist", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true forbids skipping): run make sdk-js", path)
		}
		t.Skipf("%s is missing: run make sdk-js", path)
	}
	return path
}

// stack is the real data path (internal/testenv/stacktest) with a gate in front of the
// collector that can take it offline or refuse requests.
type stack struct {
	*stacktest.Stack
	gate *gate
}

func newStack(t *testing.T) *stack {
	t.Helper()
	var g *gate
	st := stacktest.Start(t, stacktest.Options{Wrap: func(h http.Handler) http.Handler { g = &gate{next: h}; return g }})
	return &stack{Stack: st, gate: g}
}

type request struct {
	Beacon   bool             // no Authorization header, write key in the body: sendBeacon
	SentAt   string           // the batch's sentAt
	Events   []map[string]any // the batch items
	Status   int              // what the collector (or the gate) answered
	Rejected []string         // messageIds the collector rejected
	Encoding string           // the Content-Encoding header ("" or "gzip")
	Wire     int              // body bytes as sent
	Bytes    int              // body bytes after gunzip (= Wire for a plain body)
	Query    string           // the URL's query (the SDK sends none)
	Gzip     bool             // the body starts with gzip's magic bytes, whatever the header says
}

// gate is in front of the collector: it records every batch and can make the collector
// unreachable (the connection is dropped without an answer) or answer a status of its own.
type gate struct {
	next http.Handler

	mu   sync.Mutex
	down bool
	fail []int // statuses to answer to the next POSTs, in order
	reqs []request
}

func (g *gate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

// failNext answers the next len(statuses) POSTs with these statuses (CORS headers included, as the
// collector's own errors have them) instead of passing them on.
func (g *gate) failNext(statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail = append(g.fail, statuses...)
}

// ServeHTTP records a batch, then drops the connection (down), answers a queued failure status,
// or passes the request to the collector and records its answer. Status 0 marks a request
// received while down.
func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/batch" {
		g.mu.Lock()
		down := g.down
		g.mu.Unlock()
		if down {
			panic(http.ErrAbortHandler) // the connection closes without an answer: a network error
		}
		g.next.ServeHTTP(w, r)
		return
	}
	wire, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	enc := strings.ToLower(r.Header.Get("Content-Encoding"))
	body := wire
	if enc == "gzip" {
		body = gunzip(wire) // the gate's own copy; the collector gets the gzip body as sent
	}
	var b struct {
		Batch    []map[string]any `json:"batch"`
		SentAt   string           `json:"sentAt"`
		WriteKey string           `json:"writeKey"`
	}
	_ = json.Unmarshal(body, &b) // the collector judges the body
	_, _, basic := r.BasicAuth()
	req := request{Beacon: !basic && b.WriteKey != "", SentAt: b.SentAt, Events: b.Batch, Encoding: enc, Wire: len(wire), Bytes: len(body),
		Query: r.URL.RawQuery, Gzip: bytes.HasPrefix(wire, []byte{0x1f, 0x8b})}

	g.mu.Lock()
	if g.down {
		g.reqs = append(g.reqs, req)
		g.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	if len(g.fail) > 0 {
		req.Status, g.fail = g.fail[0], g.fail[1:]
		g.reqs = append(g.reqs, req)
		g.mu.Unlock()
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if req.Status == http.StatusTooManyRequests {
			h.Set("Retry-After", "1")
			h.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		w.WriteHeader(req.Status)
		return
	}
	g.mu.Unlock()

	r.Body = io.NopCloser(bytes.NewReader(wire))
	rec := httptest.NewRecorder()
	g.next.ServeHTTP(rec, r)
	req.Status = rec.Code
	var ans struct {
		Rejected []struct {
			MessageID string `json:"messageId"`
		} `json:"rejected"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &ans)
	for _, rj := range ans.Rejected {
		req.Rejected = append(req.Rejected, rj.MessageID)
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, req) // before the browser hears the answer
	g.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// gunzip decompresses a gzip body for the gate's record; nil when it is not gzip (the collector
// answers that).
func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return out
}

// query returns the recorded requests whose URL query is q.
func (g *gate) query(q string) []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []request
	for _, r := range g.reqs {
		if r.Query == q {
			out = append(out, r)
		}
	}
	return out
}

// requests returns the recorded requests carrying an event of the anonymous id.
func (g *gate) requests(anon string) []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []request
	for _, r := range g.reqs {
		for _, e := range r.Events {
			if e["anonymousId"] == anon {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// delivered returns the events of the anonymous id the collector accepted (answered 200 and did
// not reject), one per messageId, in the order they arrived.
func (g *gate) delivered(anon string) []map[string]any {
	var out []map[string]any
	seen := map[any]bool{}
	for _, r := range g.requests(anon) {
		if r.Status != http.StatusOK {
			continue
		}
		for _, e := range r.Events {
			if id, _ := e["messageId"].(string); slices.Contains(r.Rejected, id) {
				continue
			}
			if e["anonymousId"] == anon && !seen[e["messageId"]] {
				seen[e["messageId"]] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// site serves a test page on its own origin (so its storage is its own, and it is cross-origin
// to the collector) plus the built SDK files. Every path but the SDK files gets the page, as a
// single-page app's server does.
type site struct {
	*httptest.Server
}

// pageOpts are the SDK options of a page; ESM loads the ES module build instead of the IIFE.
type pageOpts struct {
	Endpoint string
	Key      string
	ESM      bool
	Options  map[string]any
	// PreInit runs before init (IIFE build only): calls made before the SDK is started.
	PreInit template.JS
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>办事大厅</title>
{{if .ESM}}<script type="module">
import * as citypulse from '/citypulse.esm.js';
window.citypulse = citypulse;
citypulse.init({{.Key}}, {{.Endpoint}}, {{.Options}});
</script>
{{else}}<script src="/citypulse.min.js"></script>
<script>{{.PreInit}}
citypulse.init({{.Key}}, {{.Endpoint}}, {{.Options}});</script>
{{end}}</head>
<body>
<h1>CityPulse SDK test page</h1>
<button id="apply" data-cp-track="service_apply" data-cp-service-id="12" data-cp-channel="banner"><span id="apply-label">办理</span></button>
<button id="untracked">nothing</button>
</body></html>
`))

func newSite(t *testing.T, o pageOpts) *site {
	t.Helper()
	files := map[string]string{
		"/citypulse.min.js": distFile(t, "citypulse.min.js"),
		"/citypulse.esm.js": distFile(t, "citypulse.esm.js"),
	}
	if o.Key == "" {
		o.Key = writeKey
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, ok := files[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			http.ServeFile(w, r, f)
			return
		}
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pageTmpl.Execute(w, o); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			t.Errorf("page template: %v", err)
		}
	}))
	// Each site on a loopback address of its own: its own origin, localStorage and cookies
	// (cookies ignore the port).
	host := fmt.Sprintf("127.0.0.%d", 2+siteCount.Add(1)%250)
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &site{srv}
}

var siteCount atomic.Int32

// url is the page at path (with its query) on the site.
func (s *site) url(path string) string {
	return s.URL + path
}
