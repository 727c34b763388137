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
// context (the event's own keys win).
type Event struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`            // "track", "page", "screen", "identify"
	Event       string          `json:"event,omitempty"` // track: the event name
	Name        string          `json:"name,omitempty"`  // page/screen name
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	Timestamp   time.Time       `json:"timestamp"` // event time; server time when the client sent none
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
