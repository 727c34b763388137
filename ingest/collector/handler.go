package collector

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	source, headerKey := "", false
	if key, _, ok := r.BasicAuth(); ok {
		headerKey = true
		if source, ok = c.keys[key]; !ok {
			return fail(http.StatusUnauthorized, "writeKey", "unknown write key")
		}
	}

	body, status, err := c.readBody(w, r)
	if err != nil {
		return fail(status, "", err.Error())
	}
	c.m.bodyBytes.Observe(float64(len(body)))

	if !headerKey {
		var k struct {
			WriteKey string `json:"writeKey"`
		}
		_ = json.Unmarshal(body, &k) // a body without a readable key is answered 401 below
		if k.WriteKey == "" {
			return fail(http.StatusUnauthorized, "writeKey", "missing write key: send it as the HTTP Basic username or as writeKey in the body")
		}
		var ok bool
		if source, ok = c.keys[k.WriteKey]; !ok {
			return fail(http.StatusUnauthorized, "writeKey", "unknown write key")
		}
	}

	now := time.Now().UTC()
	var (
		evs  []event.Event
		rejs []event.Rejection
	)
	if typ == "" {
		evs, rejs, err = event.ParseBatch(body, now, source)
	} else {
		evs, rejs, err = event.ParseSingle(typ, body, now, source)
	}
	if err != nil {
		var re *event.RequestError
		if errors.As(err, &re) {
			return fail(http.StatusBadRequest, re.Field, re.Reason)
		}
		return fail(http.StatusBadRequest, "", err.Error())
	}

	if n := len(evs) + len(rejs); n > 0 {
		weight := int64(min(n, c.cfg.MaxInFlight))
		if !c.room.TryAcquire(weight) {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(c.cfg.RetryAfter)))
			return fail(http.StatusTooManyRequests, "", "the collector is busy: retry later")
		}
		if err := c.produce(r.Context(), evs, rejs, source, now, weight); err != nil {
			c.log.Warn("produce failed", "source", source, "events", len(evs), "rejected", len(rejs), "err", err)
			return fail(http.StatusServiceUnavailable, "", "could not store the events: retry later")
		}
	}
	c.m.accepted.WithLabelValues(source).Add(float64(len(evs)))
	for _, rej := range rejs {
		c.m.rejected.WithLabelValues(rej.Field, rej.Code).Inc()
	}
	if rejs == nil {
		rejs = []event.Rejection{}
	}
	httpserve.WriteJSON(w, http.StatusOK, response{Success: true, Accepted: len(evs), Rejected: rejs})
	return http.StatusOK
}

// readBody reads the whole body, gunzipping it when it says so, and refuses one over
// MaxBodyBytes (counted after decompression) with 413.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	limit := c.cfg.MaxBodyBytes
	tooLarge := fmt.Errorf("body is over %d bytes", limit)
	var rd io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, http.StatusRequestEntityTooLarge, tooLarge
			}
			return nil, http.StatusBadRequest, fmt.Errorf("body is not gzip: %w", err)
		}
		defer gz.Close()
		rd = gz
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported: send gzip or nothing", enc)
	}
	body, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	return body, 0, nil
}

func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
