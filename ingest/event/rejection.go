package event

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Rejection codes: a small fixed set, fit for a metric label. Reason says the rest.
const (
	CodeTooLarge  = "too_large"  // the event is over MaxEventBytes
	CodeNotObject = "not_object" // a batch item is not a JSON object
	CodeRequired  = "required"   // a required field is missing
	CodeWrongType = "wrong_type" // a field has the wrong JSON type
	CodeTooLong   = "too_long"   // a string field is over its length limit
	CodeInvalid   = "invalid"    // a field has the right type but a bad value
	CodeFuture    = "future"     // the timestamp is more than MaxFuture ahead
	CodePlan      = "plan"       // the event breaks the active tracking plan; Rule names the rule
)

// Rejection is one event that failed validation.
type Rejection struct {
	Index     int             `json:"index"`               // position in the batch (0 for a single event)
	MessageID string          `json:"messageId,omitempty"` // the client's messageId, when it was valid
	Field     string          `json:"field"`               // JSON path of the bad field, e.g. "context.region_code"; "" for the whole event
	Code      string          `json:"code"`                // one of the Code… constants
	Event     string          `json:"event,omitempty"`     // CodePlan: the event name the plan judged
	Rule      string          `json:"rule,omitempty"`      // CodePlan: the plan rule broken, e.g. "required", "enum", "unknown_event"
	Reason    string          `json:"reason"`              // for people: what is wrong and what is expected
	Raw       json.RawMessage `json:"-"`                   // the event as received
}

func (r Rejection) Error() string {
	if r.Field == "" {
		return fmt.Sprintf("event %d: %s", r.Index, r.Reason)
	}
	return fmt.Sprintf("event %d: %s: %s", r.Index, r.Field, r.Reason)
}

// DeadLetter is what goes to DLQTopic for an event that failed validation.
type DeadLetter struct {
	Reason     string          `json:"reason"`
	Field      string          `json:"field"`
	Code       string          `json:"code"`
	Event      string          `json:"event,omitempty"`
	Rule       string          `json:"rule,omitempty"`
	Index      int             `json:"index"`
	MessageID  string          `json:"messageId,omitempty"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Raw        json.RawMessage `json:"raw"` // the event as received; see NewDeadLetter
}

// NewDeadLetter describes a rejected event. Raw is the event as received; one over MaxEventBytes
// is cut to its first MaxEventBytes bytes and carried as a JSON string instead, so a dead letter
// always fits in a Kafka record.
func NewDeadLetter(r Rejection, source string, receivedAt time.Time) DeadLetter {
	raw := r.Raw
	switch {
	case len(raw) == 0:
		raw = json.RawMessage("null")
	case len(raw) > MaxEventBytes:
		raw, _ = json.Marshal(string(raw[:MaxEventBytes])) // a string always marshals
	}
	return DeadLetter{
		Reason:     r.Reason,
		Field:      r.Field,
		Code:       r.Code,
		Event:      r.Event,
		Rule:       r.Rule,
		Index:      r.Index,
		MessageID:  r.MessageID,
		Source:     source,
		ReceivedAt: receivedAt,
		Raw:        raw,
	}
}

// RequestError is a body that cannot be read as a request at all: not JSON, not an object, or a
// batch whose batch-level fields are bad. The whole request is refused; no event is taken.
type RequestError struct {
	Field  string // "" when the body as a whole is bad
	Reason string
}

func (e *RequestError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// FieldShape is a rejection's field without its element indexes, "properties.cart.items[].price"
// for "properties.cart.items[2].price": the same for every element, so that it can label a
// metric or group a report without one series per index.
func FieldShape(field string) string {
	if strings.IndexByte(field, '[') < 0 {
		return field
	}
	var b strings.Builder
	b.Grow(len(field))
	for i := 0; i < len(field); i++ {
		c := field[i]
		b.WriteByte(c)
		if c != '[' {
			continue
		}
		j := i + 1
		for j < len(field) && field[j] >= '0' && field[j] <= '9' {
			j++
		}
		if j > i+1 && j < len(field) && field[j] == ']' {
			i = j - 1 // drop the digits; the ']' is written next
		}
	}
	return b.String()
}
