package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/citypulse/citypulse/ingest/useragent"
)

// batchBody is a Segment /v1/batch (or /v1/import) body. writeKey, integrations and metadata are
// not the parser's business.
type batchBody struct {
	src     []byte // the body the items' spans refer to
	Batch   []item // nil: no batch
	Context json.RawMessage
	SentAt  json.RawMessage
}

// ParseBatch reads a Segment batch body {"batch":[…],"sentAt":…,"context":…} received at now from
// the app source. Each item carries its own "type". The batch-level context is merged under each
// event's context (the event's keys win, objects merge recursively) and the batch-level sentAt
// applies to items that have none.
//
// The events and rejections it returns share memory with body (their raw JSON fields are
// slices of it): the caller must not modify body while it uses them.
//
// It returns the valid events and one Rejection per invalid item, in batch order, and a
// *RequestError only when the body itself is bad (not a JSON object, "batch" missing or not an
// array, batch-level context or sentAt malformed).
func ParseBatch(body []byte, now time.Time, source string) ([]Event, []Rejection, error) {
	return Request{Now: now, Source: source}.ParseBatch(body)
}

// Request is one request as the collector received it: its time, the app its write key stands
// for and, for server-side enrichment, where it came from.
type Request struct {
	Now    time.Time // collector time
	Source string    // the app bound to the write key
	// Origin, when not nil, stamps every accepted event with context.server (see Server) and
	// truncates a client-sent context.ip. Nil leaves the context as the client sent it.
	Origin *Origin
	// Agents, when not nil, parses user agents through this cache (see useragent.Cache).
	Agents *useragent.Cache
}

// ParseBatch is the package-level ParseBatch for this request, with enrichment when r.Origin is
// set.
func (r Request) ParseBatch(body []byte) ([]Event, []Rejection, error) {
	return r.AppendBatch(nil, body)
}

// AppendBatch is ParseBatch appending the valid events to evs, so that a caller can reuse the
// memory of one request's events for the next (an Event is ~300 bytes, a batch of 50 a 15 KB
// allocation otherwise). On error it returns evs unchanged.
func (r Request) AppendBatch(evs []Event, body []byte) ([]Event, []Rejection, error) {
	now, source := r.Now, r.Source
	pooled := itemPool.Get().(*[]item)
	defer itemPool.Put(pooled) // items hold offsets, not references: nothing to clear
	b, err := scanBatchInto(body, *pooled)
	if err != nil {
		return evs, nil, err
	}
	if cap(b.Batch) > cap(*pooled) && cap(b.Batch) <= maxPooledItems {
		*pooled = b.Batch[:cap(b.Batch)]
	}
	if b.Batch == nil {
		return evs, nil, &RequestError{Field: "batch", Reason: "required: an array of events"}
	}
	var batchCtx map[string]json.RawMessage
	if present(b.Context) {
		m, err := objectMembers(b.Context)
		if err != nil || JSONKind(b.Context) != "an object" {
			return evs, nil, &RequestError{Field: "context", Reason: "must be an object"}
		}
		batchCtx = m
	}
	var sentAt time.Time
	if present(b.SentAt) {
		t, reason := parseTime(b.SentAt)
		if reason != "" {
			return evs, nil, &RequestError{Field: "sentAt", Reason: reason}
		}
		sentAt = t
	}
	p := parser{src: b.src, now: now.UTC(), source: source, batchCtx: batchCtx, batchSentAt: sentAt, origin: r.Origin}
	p.ua.cache = r.Agents
	base := len(evs)
	evs = slices.Grow(evs, len(b.Batch))[:base+len(b.Batch)]
	n := base
	var rejs []Rejection
	for i := range b.Batch {
		// Each event is parsed in place; a rejected one's slot is taken by the next.
		if rej := p.parseItem(i, "", &b.Batch[i], &evs[n]); rej != nil {
			rejs = append(rejs, *rej)
			continue
		}
		n++
	}
	clear(evs[n:]) // slots left over by rejections
	return evs[:n], rejs, nil
}

// ParseSingle reads a single-event body, as sent to /v1/track, /v1/page, /v1/screen or
// /v1/identify or /v1/alias; typ is the type the path names and wins over any "type" in the body. It returns
// the event, or its Rejection (Index 0), and a *RequestError only when the body is not a JSON
// object. Like ParseBatch's, its results share memory with body.
func ParseSingle(typ string, body []byte, now time.Time, source string) ([]Event, []Rejection, error) {
	return Request{Now: now, Source: source}.ParseSingle(typ, body)
}

// ParseSingle is the package-level ParseSingle for this request, with enrichment when r.Origin
// is set.
func (r Request) ParseSingle(typ string, body []byte) ([]Event, []Rejection, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil, checkObject(body)
	}
	if len(trimmed) > maxSpanBody {
		return nil, nil, errTooLarge()
	}
	it, ok := fastScanItem(trimmed)
	var err error
	if !ok {
		s := getScanner(trimmed)
		it, err = s.readItem()
		if err == nil {
			err = s.end()
		}
		putScanner(s)
	}
	if err != nil {
		if cerr := checkObject(body); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, &RequestError{Reason: fmt.Sprintf("body is not valid JSON: %v", err)}
	}
	p := parser{src: trimmed, now: r.Now.UTC(), source: r.Source, origin: r.Origin}
	p.ua.cache = r.Agents
	evs := make([]Event, 1)
	if rej := p.parseItem(0, typ, &it, &evs[0]); rej != nil {
		return nil, []Rejection{*rej}, nil
	}
	return evs, nil, nil
}

// checkObject returns a *RequestError unless body is one JSON object.
func checkObject(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &RequestError{Reason: "body is empty: want a JSON object"}
	}
	if !jsontext.Value(trimmed).IsValid(scanOpts...) {
		var x any
		err := json.Unmarshal(trimmed, &x) // again, for the position of the syntax error
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return &RequestError{Reason: fmt.Sprintf("body is not valid JSON: %v", err)}
	}
	if trimmed[0] != '{' {
		return &RequestError{Reason: "body is not a JSON object"}
	}
	return nil
}

// itemPool holds the item slices of ParseBatch: an item is ~220 bytes, a batch of 50 is an
// 11 KB allocation the collector would otherwise make and clear for every request.
var itemPool = sync.Pool{New: func() any { s := make([]item, 64); return &s }}

// maxPooledItems caps the slices kept in itemPool.
const maxPooledItems = 1024

// scanBatch reads a batch body in one validating pass. Items are slices of body.
func scanBatch(body []byte) (batchBody, error) { return scanBatchInto(body, nil) }

// scanBatchInto is scanBatch reading the items into the memory of items when it can.
func scanBatchInto(body []byte, items []item) (batchBody, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return batchBody{}, checkObject(body)
	}
	if len(trimmed) > maxSpanBody {
		return batchBody{}, errTooLarge()
	}
	if b, ok := fastScanBatchInto(trimmed, items); ok {
		return b, nil
	}
	return slowScanBatch(trimmed)
}

// slowScanBatch is scanBatch with jsontext, on a trimmed body that starts with '{'.
func slowScanBatch(trimmed []byte) (batchBody, error) {
	b := batchBody{src: trimmed}
	s := getScanner(trimmed)
	defer putScanner(s)
	bad := func(err error) (batchBody, error) {
		return batchBody{}, &RequestError{Reason: fmt.Sprintf("body is not valid JSON: %v", err)}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return bad(err)
	}
	for s.dec.PeekKind() == '"' {
		k, err := s.name()
		if err != nil {
			return bad(err)
		}
		switch k {
		case "batch":
			if s.dec.PeekKind() != '[' {
				v, err := s.value()
				if err != nil {
					return bad(err)
				}
				if present(v) {
					// Finish reading, so that a syntax error later on wins over this one.
					if err := skipRest(s); err != nil {
						return bad(err)
					}
					return batchBody{}, &RequestError{Field: "batch", Reason: "must be an array, not " + JSONKind(v)}
				}
				b.Batch = nil
				continue
			}
			if _, err := s.dec.ReadToken(); err != nil {
				return bad(err)
			}
			b.Batch = make([]item, 0, 64)
			for s.dec.PeekKind() != ']' {
				it, err := s.readItem()
				if err != nil {
					return bad(err)
				}
				b.Batch = append(b.Batch, it)
			}
			if _, err := s.dec.ReadToken(); err != nil {
				return bad(err)
			}
		case "context", "sentAt":
			v, err := s.value()
			if err != nil {
				return bad(err)
			}
			if k == "context" {
				b.Context = v
			} else {
				b.SentAt = v
			}
		default:
			if err := s.dec.SkipValue(); err != nil {
				return bad(err)
			}
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return bad(err)
	}
	if err := s.end(); err != nil {
		return bad(err)
	}
	return b, nil
}

// errTooLarge is the error of a body longer than spans can address (2 GiB), far beyond any limit a
// collector sets on bodies.
func errTooLarge() error {
	return &RequestError{Reason: fmt.Sprintf("body is over %d bytes", maxSpanBody)}
}

// skipRest reads the rest of the top-level object.
func skipRest(s *scanner) error {
	for s.dec.PeekKind() == '"' {
		if _, err := s.dec.ReadValue(); err != nil {
			return err
		}
		if err := s.dec.SkipValue(); err != nil {
			return err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return err
	}
	return s.end()
}

// plainEnds reports that raw (not empty) starts and ends with a printable ASCII character, so
// that bytes.TrimSpace would leave it as it is.
func plainEnds(raw []byte) bool {
	a, z := raw[0], raw[len(raw)-1]
	return a > ' ' && a < 0x80 && z > ' ' && z < 0x80
}

// present reports whether a raw JSON value was given and is not null.
func present(raw json.RawMessage) bool {
	if n := len(raw); n > 0 && plainEnds(raw) {
		return n != 4 || string(raw) != "null"
	}
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}
