package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// batchBody is a Segment /v1/batch (or /v1/import) body. writeKey, integrations and metadata are
// not the parser's business.
type batchBody struct {
	Batch   []json.RawMessage `json:"batch"`
	Context json.RawMessage   `json:"context"`
	SentAt  json.RawMessage   `json:"sentAt"`
}

// ParseBatch reads a Segment batch body {"batch":[…],"sentAt":…,"context":…} received at now from
// the app source. Each item carries its own "type". The batch-level context is merged under each
// event's context (the event's keys win, objects merge recursively) and the batch-level sentAt
// applies to items that have none.
//
// It returns the valid events and one Rejection per invalid item, in batch order, and a
// *RequestError only when the body itself is bad (not a JSON object, "batch" missing or not an
// array, batch-level context or sentAt malformed).
func ParseBatch(body []byte, now time.Time, source string) ([]Event, []Rejection, error) {
	var b batchBody
	if err := decodeObject(body, &b); err != nil {
		return nil, nil, err
	}
	if b.Batch == nil {
		return nil, nil, &RequestError{Field: "batch", Reason: "required: an array of events"}
	}
	var batchCtx map[string]json.RawMessage
	if present(b.Context) {
		if err := json.Unmarshal(b.Context, &batchCtx); err != nil || batchCtx == nil {
			return nil, nil, &RequestError{Field: "context", Reason: "must be an object"}
		}
	}
	var sentAt time.Time
	if present(b.SentAt) {
		t, reason := parseTime(b.SentAt)
		if reason != "" {
			return nil, nil, &RequestError{Field: "sentAt", Reason: reason}
		}
		sentAt = t
	}
	p := parser{now: now.UTC(), source: source, batchCtx: batchCtx, batchSentAt: sentAt}
	var (
		events []Event
		rejs   []Rejection
	)
	for i, raw := range b.Batch {
		ev, rej := p.parseItem(i, "", raw)
		if rej != nil {
			rejs = append(rejs, *rej)
			continue
		}
		events = append(events, ev)
	}
	return events, rejs, nil
}

// ParseSingle reads a single-event body, as sent to /v1/track, /v1/page, /v1/screen or
// /v1/identify; typ is the type the path names and wins over any "type" in the body. It returns
// the event, or its Rejection (Index 0), and a *RequestError only when the body is not a JSON
// object.
func ParseSingle(typ string, body []byte, now time.Time, source string) ([]Event, []Rejection, error) {
	if err := checkObject(body); err != nil {
		return nil, nil, err
	}
	p := parser{now: now.UTC(), source: source}
	ev, rej := p.parseItem(0, typ, json.RawMessage(bytes.TrimSpace(body)))
	if rej != nil {
		return nil, []Rejection{*rej}, nil
	}
	return []Event{ev}, nil, nil
}

// checkObject returns a *RequestError unless body is one JSON object.
func checkObject(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &RequestError{Reason: "body is empty: want a JSON object"}
	}
	if !json.Valid(trimmed) {
		var x any
		err := json.Unmarshal(trimmed, &x) // again, for the position of the syntax error
		return &RequestError{Reason: fmt.Sprintf("body is not valid JSON: %v", err)}
	}
	if trimmed[0] != '{' {
		return &RequestError{Reason: "body is not a JSON object"}
	}
	return nil
}

// decodeObject unmarshals a request body that must be a JSON object.
func decodeObject(body []byte, v any) error {
	if err := checkObject(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &RequestError{Field: te.Field, Reason: fmt.Sprintf("must be %s, not %s", expectedKind(te), te.Value)}
		}
		return &RequestError{Reason: fmt.Sprintf("body: %v", err)}
	}
	return nil
}

func expectedKind(te *json.UnmarshalTypeError) string {
	switch te.Field {
	case "batch":
		return "an array"
	default:
		return "a " + te.Type.String()
	}
}

// present reports whether a raw JSON value was given and is not null.
func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}
