package event

import (
	"encoding/json"
	"time"
)

// Event types the collector accepts.
const (
	TypeTrack    = "track"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeIdentify = "identify"
	// TypeAlias joins two identities of one user (Segment's alias): PreviousID, usually the
	// anonymousId the user had before logging in, becomes UserID.
	TypeAlias = "alias"
)

// Limits on what a client may send.
const (
	// MaxEventBytes is the largest event accepted, counted as the bytes of its JSON object as
	// received (one batch item, or a whole single-event body).
	MaxEventBytes = 32 << 10
	// MaxIDLen is the longest userId or anonymousId accepted.
	MaxIDLen = 256
	// MaxMessageIDLen is the longest messageId accepted.
	MaxMessageIDLen = 100
	// MaxFuture is how far past the collector's clock a (skew-corrected) timestamp may be.
	MaxFuture = 24 * time.Hour
	// RegionCodeLen is the length of a statistical division code: context.region_code and
	// properties.region_code must be this many digits.
	RegionCodeLen = 12
)

// Event is the canonical record the collector writes (JSON) to EventsTopic, keyed by UserID, else
// AnonymousID.
//
// Context, Properties and Traits are JSON objects when present. In Context and Properties,
// region_code, when present, is a string of 12 digits and service_id a JSON number in
// 1…4294967295, whatever form the client sent them in. Context already includes the batch-level
// context (the event's own keys win). When the collector parsed the event with an Origin, Context
// also holds context.server (see Server), and a client-sent context.ip is truncated like
// Server.IP.
type Event struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`            // "track", "page", "screen", "identify", "alias"
	Event       string          `json:"event,omitempty"` // track: the event name
	Name        string          `json:"name,omitempty"`  // page/screen name
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	PreviousID  string          `json:"previousId,omitempty"` // alias: the id UserID replaces
	Timestamp   time.Time       `json:"timestamp"`            // event time; server time when the client sent none
	SentAt      time.Time       `json:"sentAt,omitzero"`
	ReceivedAt  time.Time       `json:"receivedAt"` // collector time
	Source      string          `json:"source"`     // the app bound to the write key
	Context     json.RawMessage `json:"context,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Traits      json.RawMessage `json:"traits,omitempty"`
	// PlanFlags lists tracking-plan findings on an event the plan let through (e.g.
	// "unknown_event" when unknown events are flagged rather than rejected).
	PlanFlags []string `json:"planFlags,omitempty"`
}

// Key is the Kafka key of the event: its UserID, else its AnonymousID.
func (e *Event) Key() string {
	if e.UserID != "" {
		return e.UserID
	}
	return e.AnonymousID
}

// AppendJSON appends the event's JSON to b: a document that decodes to what json.Marshal(e)
// gives (Context, Properties and Traits are appended as they are, not re-compacted, and only
// what must be escaped is), built without reflection, since the collector encodes every event
// it accepts. Context, Properties and Traits must be valid JSON, as the parser leaves them.
func (e *Event) AppendJSON(b []byte) []byte { return e.appendJSON(b, nil) }

// Encoder is AppendJSON for many events: it remembers the sentAt and receivedAt it formatted
// last, which the events of one request share. The zero value is ready to use; it is not safe
// for concurrent use.
type Encoder struct {
	sent, received timeMemo
	day            dayMemo // of the timestamps
}

// Append appends e's JSON to b, as e.AppendJSON does.
func (enc *Encoder) Append(b []byte, e *Event) []byte { return e.appendJSON(b, enc) }

// timeMemo is a time and its quoted RFC 3339 form.
type timeMemo struct {
	t   time.Time
	n   int
	enc [48]byte
	set bool
}

// append appends t quoted, from the memo when it holds t.
func (m *timeMemo) append(b []byte, t time.Time) []byte {
	if !m.set || !m.t.Equal(t) || m.t.Location() != t.Location() {
		enc := appendTime(m.enc[:0], t)
		if len(enc) > len(m.enc) {
			return append(b, enc...) // never: RFC 3339 with nanoseconds is 37 bytes at most
		}
		m.t, m.n, m.set = t, len(enc), true
	}
	return append(b, m.enc[:m.n]...)
}

func (e *Event) appendJSON(b []byte, enc *Encoder) []byte {
	b = append(b, `{"messageId":`...)
	b = appendString(b, e.MessageID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	for _, f := range []struct{ name, v string }{
		{`,"event":`, e.Event}, {`,"name":`, e.Name}, {`,"userId":`, e.UserID},
		{`,"anonymousId":`, e.AnonymousID}, {`,"previousId":`, e.PreviousID},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendString(b, f.v)
		}
	}
	b = append(b, `,"timestamp":`...)
	if enc != nil {
		b = appendTimeDay(b, e.Timestamp, &enc.day)
	} else {
		b = appendTime(b, e.Timestamp)
	}
	if !e.SentAt.IsZero() {
		b = append(b, `,"sentAt":`...)
		if enc != nil {
			b = enc.sent.append(b, e.SentAt)
		} else {
			b = appendTime(b, e.SentAt)
		}
	}
	b = append(b, `,"receivedAt":`...)
	if enc != nil {
		b = enc.received.append(b, e.ReceivedAt)
	} else {
		b = appendTime(b, e.ReceivedAt)
	}
	b = append(b, `,"source":`...)
	b = appendString(b, e.Source)
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{`,"context":`, e.Context}, {`,"properties":`, e.Properties}, {`,"traits":`, e.Traits}} {
		if len(f.v) > 0 {
			b = append(b, f.name...)
			b = append(b, f.v...)
		}
	}
	if len(e.PlanFlags) > 0 {
		b = append(b, `,"planFlags":[`...)
		for i, f := range e.PlanFlags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
