package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/time/rate"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/httpserve"
)

// response is the 200 answer.
type response struct {
	Success  bool              `json:"success"`
	Accepted int               `json:"accepted"`
	Rejected []event.Rejection `json:"rejected"`
}

// ingest handles one tracking endpoint; typ is the event type its path names ("" for a batch).
func (c *Collector) ingest(path, typ string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := c.serveIngest(w, r, typ)
		c.m.requests.WithLabelValues(path, strconv.Itoa(status)).Inc()
	})
}

// serveIngest answers one request and returns the status it answered with.
func (c *Collector) serveIngest(w http.ResponseWriter, r *http.Request, typ string) int {
	fail := func(status int, field, msg string) int {
		httpserve.WriteError(w, status, field, msg)
		return status
	}

	// A write key in the Authorization header is checked before the body is read.
	var src *source
	headerKey := false
	if key, _, ok := r.BasicAuth(); ok {
		headerKey = true
		if src, ok = c.keys[key]; !ok {
			return fail(http.StatusUnauthorized, "writeKey", "unknown write key")
		}
	}

	buf, status, err := c.readBody(w, r)
	defer putBody(buf) // nothing holds on to the body past the answer: records are copies
	if err != nil {
		return fail(status, "", err.Error())
	}
	body := buf.Bytes()
	c.m.bodyBytes.Observe(float64(len(body)))

	if !headerKey {
		k := bodyWriteKey(body)
		if k == "" {
			return fail(http.StatusUnauthorized, "writeKey", "missing write key: send it as the HTTP Basic username or as writeKey in the body")
		}
		var ok bool
		if src, ok = c.keys[k]; !ok {
			return fail(http.StatusUnauthorized, "writeKey", "unknown write key")
		}
	}

	now := time.Now().UTC()
	req := event.Request{Now: now, Source: src.name, Agents: c.agents, Origin: &event.Origin{
		IP:        event.TruncateAddr(c.clientAddr(r)),
		UserAgent: r.Header.Get("User-Agent"),
	}}
	var (
		evs  []event.Event
		rejs []event.Rejection
	)
	if typ == "" {
		pooled := eventSlices.Get().(*[]event.Event)
		evs, rejs, err = req.AppendBatch((*pooled)[:0], body)
		defer putEvents(pooled, evs) // nothing holds on to the events past the answer either
	} else {
		evs, rejs, err = req.ParseSingle(typ, body)
	}
	if err != nil {
		var re *event.RequestError
		if errors.As(err, &re) {
			return fail(http.StatusBadRequest, re.Field, re.Reason)
		}
		return fail(http.StatusBadRequest, "", err.Error())
	}

	if n := len(evs) + len(rejs); n > 0 {
		var reservation *rate.Reservation
		if src.limiter != nil {
			reservation = src.limiter.ReserveN(now, min(n, src.limiter.Burst()))
			if wait := reservation.DelayFrom(now); wait > 0 {
				reservation.CancelAt(now)
				c.m.rateLimited.WithLabelValues(src.name).Add(float64(n))
				w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
				return fail(http.StatusTooManyRequests, "writeKey", fmt.Sprintf("this write key is over its limit of %g events/s: retry later", float64(src.limiter.Limit())))
			}
		}
		evs, rejs = c.checkPlan(src.name, evs, rejs)
		weight := int64(min(n, c.cfg.MaxInFlight))
		if !c.room.TryAcquire(weight) {
			if reservation != nil {
				reservation.CancelAt(now)
			}
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(c.cfg.RetryAfter)))
			return fail(http.StatusTooManyRequests, "", "the collector is busy: retry later")
		}
		if err := c.produce(r.Context(), evs, rejs, src.name, now, weight); err != nil {
			c.log.Warn("produce failed", "source", src.name, "events", len(evs), "rejected", len(rejs), "err", err)
			return fail(http.StatusServiceUnavailable, "", "could not store the events: retry later")
		}
	}
	c.m.accepted.WithLabelValues(src.name).Add(float64(len(evs)))
	for _, rej := range rejs {
		c.m.rejected.WithLabelValues(event.FieldShape(rej.Field), rej.Code).Inc() // one series per field, not per array element
	}
	writeOK(w, len(evs), rejs)
	return http.StatusOK
}

// writeOK answers 200 with the response body. The common answer, nothing rejected, is written
// without reflection.
func writeOK(w http.ResponseWriter, accepted int, rejs []event.Rejection) {
	if len(rejs) > 0 {
		httpserve.WriteJSON(w, http.StatusOK, response{Success: true, Accepted: accepted, Rejected: rejs})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	var b [64]byte
	out := append(b[:0], `{"success":true,"accepted":`...)
	out = strconv.AppendInt(out, int64(accepted), 10)
	out = append(out, ",\"rejected\":[]}\n"...)
	_, _ = w.Write(out) // the client went away; nothing useful to do
}

// bodyWriteKey reads a writeKey field at the top level of a JSON body; "" when there is none or
// the body is not a JSON object.
func bodyWriteKey(body []byte) string {
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return ""
	}
	key := ""
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return ""
		}
		if name.String() != "writeKey" || dec.PeekKind() != '"' {
			if name.String() == "writeKey" {
				key = "" // the last writeKey wins, and it is not a string
			}
			if dec.SkipValue() != nil {
				return ""
			}
			continue
		}
		v, err := dec.ReadToken()
		if err != nil {
			return ""
		}
		key = v.String()
	}
	if _, err := dec.ReadToken(); err != nil { // '}': a body that is not JSON has no key
		return ""
	}
	return key
}

// clientAddr is the client's address: the first hop of X-Forwarded-For when the peer is a
// trusted proxy and the header holds an address, else the peer. It is used only truncated.
func (c *Collector) clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if len(c.trusted) == 0 || !c.isTrusted(peer) {
		return peer
	}
	xff := r.Header.Get("X-Forwarded-For")
	if xff == "" {
		return peer
	}
	first, _, _ := strings.Cut(xff, ",")
	a, err := netip.ParseAddr(strings.TrimSpace(first))
	if err != nil {
		return peer
	}
	return a.Unmap()
}

func (c *Collector) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// bodies holds request body buffers. A body is given back (putBody) when its request is
// answered: the parsed events share its memory, but they are encoded into the records (and
// rejections into dead letters and the answer) before that.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// eventSlices holds the event slices of batch requests (see event.Request.AppendBatch): a batch
// of 50 is 15 KB of events the collector would otherwise allocate and the GC clear per request.
var eventSlices = sync.Pool{New: func() any { s := make([]event.Event, 0, 64); return &s }}

// maxPooledEvents caps the slices kept in eventSlices.
const maxPooledEvents = 1024

// putEvents gives the memory of evs (as parsed, before the plan took any out) back to the pool.
func putEvents(pooled *[]event.Event, evs []event.Event) {
	clear(evs) // drop the references into the body and the parser's memory
	if cap(evs) > cap(*pooled) && cap(evs) <= maxPooledEvents {
		*pooled = evs[:0]
	}
	eventSlices.Put(pooled)
}

// maxPooledBody caps the buffers kept in bodies.
const maxPooledBody = 1 << 20

func putBody(b *bytes.Buffer) {
	if b != nil && b.Cap() <= maxPooledBody {
		b.Reset()
		bodies.Put(b)
	}
}

// readBody reads the whole body into a pooled buffer, gunzipping it when it says so, and refuses
// one over MaxBodyBytes (counted after decompression) with 413.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, int, error) {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	limit := c.cfg.MaxBodyBytes
	tooLarge := func() error { return fmt.Errorf("body is over %d bytes", limit) }
	var rd io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if n := r.ContentLength; n > 0 && n <= limit {
			buf.Grow(int(n) + bytes.MinRead)
		}
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return buf, http.StatusRequestEntityTooLarge, tooLarge()
			}
			return buf, http.StatusBadRequest, fmt.Errorf("body is not gzip: %w", err)
		}
		defer gz.Close()
		rd = gz
	default:
		return buf, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported: send gzip or nothing", enc)
	}
	if _, err := buf.ReadFrom(io.LimitReader(rd, limit+1)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return buf, http.StatusRequestEntityTooLarge, tooLarge()
		}
		return buf, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	if int64(buf.Len()) > limit {
		return buf, http.StatusRequestEntityTooLarge, tooLarge()
	}
	return buf, 0, nil
}

func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
