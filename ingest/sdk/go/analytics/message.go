package analytics

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits the collector enforces, checked before a message is queued.
const (
	// MaxEventBytes is the largest message accepted, as encoded JSON; a larger one is refused
	// by Enqueue with ErrTooLarge.
	MaxEventBytes = 32 << 10
	// DefaultMaxBatchBytes is the collector's default request-body limit; batches stay under it.
	DefaultMaxBatchBytes = 512 << 10
	// maxIDLen is the longest userId, anonymousId or previousId, in characters.
	maxIDLen = 256
	// maxMessageIDLen is the longest messageId, in characters.
	maxMessageIDLen = 100
)

// Properties are the free-form fields of a track, page or screen call. Values must encode as
// JSON.
type Properties map[string]any

// Traits are what an identify call says about a user. Values must encode as JSON.
type Traits map[string]any

// Message is one of Track, Page, Screen, Identify or Alias. Its methods are unexported: only
// this package's types are Messages.
type Message interface {
	// complete returns the message with a generated MessageID and Timestamp = now where
	// they are empty.
	complete(now time.Time) Message
	// wire returns the message as sent, or why it cannot be sent.
	wire() (wireMessage, error)
}

// Track records that a user did something: Event names it, Properties describe it.
type Track struct {
	MessageID   string // generated when empty; the warehouse keeps one row per MessageID
	UserID      string // UserID or AnonymousID is required
	AnonymousID string
	Event       string // required, e.g. "service_open"
	Properties  Properties
	Context     *Context
	Timestamp   time.Time // when it happened; the time of Enqueue when zero
}

// Page records that a user viewed a web page (H5 or PC site) called Name.
type Page struct {
	MessageID   string
	UserID      string
	AnonymousID string
	Name        string
	Properties  Properties
	Context     *Context
	Timestamp   time.Time
}

// Screen records that a user viewed an app screen called Name.
type Screen struct {
	MessageID   string
	UserID      string
	AnonymousID string
	Name        string
	Properties  Properties
	Context     *Context
	Timestamp   time.Time
}

// Identify ties a user id to traits (and, with AnonymousID, to the anonymous history).
type Identify struct {
	MessageID   string
	UserID      string
	AnonymousID string
	Traits      Traits
	Context     *Context
	Timestamp   time.Time
}

// Alias says that PreviousID (typically an anonymous id) and UserID are the same person, so the
// history recorded under PreviousID joins UserID's. Both are required.
type Alias struct {
	MessageID  string
	PreviousID string
	UserID     string
	Context    *Context
	Timestamp  time.Time
}

// wireMessage is a message as the collector reads it (the Segment spec).
type wireMessage struct {
	Type        string     `json:"type"`
	MessageID   string     `json:"messageId"`
	UserID      string     `json:"userId,omitempty"`
	AnonymousID string     `json:"anonymousId,omitempty"`
	PreviousID  string     `json:"previousId,omitempty"`
	Event       string     `json:"event,omitempty"`
	Name        string     `json:"name,omitempty"`
	Timestamp   time.Time  `json:"timestamp"`
	Context     *Context   `json:"context,omitempty"`
	Properties  Properties `json:"properties,omitempty"`
	Traits      Traits     `json:"traits,omitempty"`
}

func (m Track) complete(now time.Time) Message {
	m.MessageID, m.Timestamp = fill(m.MessageID, m.Timestamp, now)
	return m
}

func (m Page) complete(now time.Time) Message {
	m.MessageID, m.Timestamp = fill(m.MessageID, m.Timestamp, now)
	return m
}

func (m Screen) complete(now time.Time) Message {
	m.MessageID, m.Timestamp = fill(m.MessageID, m.Timestamp, now)
	return m
}

func (m Identify) complete(now time.Time) Message {
	m.MessageID, m.Timestamp = fill(m.MessageID, m.Timestamp, now)
	return m
}

func (m Alias) complete(now time.Time) Message {
	m.MessageID, m.Timestamp = fill(m.MessageID, m.Timestamp, now)
	return m
}

func (m Track) wire() (wireMessage, error) {
	w := wireMessage{Type: "track", MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID,
		Event: m.Event, Timestamp: m.Timestamp, Context: m.Context, Properties: m.Properties}
	if m.Event == "" {
		return w, invalid("track", "Event", "is required: the event name")
	}
	return w, checkIDs(w)
}

func (m Page) wire() (wireMessage, error) {
	w := wireMessage{Type: "page", MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID,
		Name: m.Name, Timestamp: m.Timestamp, Context: m.Context, Properties: m.Properties}
	return w, checkIDs(w)
}

func (m Screen) wire() (wireMessage, error) {
	w := wireMessage{Type: "screen", MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID,
		Name: m.Name, Timestamp: m.Timestamp, Context: m.Context, Properties: m.Properties}
	return w, checkIDs(w)
}

func (m Identify) wire() (wireMessage, error) {
	w := wireMessage{Type: "identify", MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID,
		Timestamp: m.Timestamp, Context: m.Context, Traits: m.Traits}
	return w, checkIDs(w)
}

func (m Alias) wire() (wireMessage, error) {
	w := wireMessage{Type: "alias", MessageID: m.MessageID, UserID: m.UserID, PreviousID: m.PreviousID,
		Timestamp: m.Timestamp, Context: m.Context}
	switch {
	case m.PreviousID == "":
		return w, invalid("alias", "PreviousID", "is required: the id the history was recorded under")
	case m.UserID == "":
		return w, invalid("alias", "UserID", "is required: the id the history joins")
	}
	return w, checkIDs(w)
}

// checkIDs applies the collector's rules on ids.
func checkIDs(w wireMessage) error {
	if w.UserID == "" && w.AnonymousID == "" {
		return invalid(w.Type, "UserID", "UserID or AnonymousID is required")
	}
	for _, id := range []struct{ field, v string }{{"UserID", w.UserID}, {"AnonymousID", w.AnonymousID}, {"PreviousID", w.PreviousID}} {
		if n := utf8.RuneCountInString(id.v); n > maxIDLen {
			return invalid(w.Type, id.field, fmt.Sprintf("is %d characters, more than the %d allowed", n, maxIDLen))
		}
	}
	if n := utf8.RuneCountInString(w.MessageID); n > maxMessageIDLen {
		return invalid(w.Type, "MessageID", fmt.Sprintf("is %d characters, more than the %d allowed", n, maxMessageIDLen))
	}
	return nil
}

func invalid(typ, field, reason string) error {
	return fmt.Errorf("%w: %s: %s %s", ErrInvalid, typ, field, reason)
}

func fill(id string, ts, now time.Time) (string, time.Time) {
	if id == "" {
		id = newMessageID()
	}
	if ts.IsZero() {
		ts = now
	}
	return id, ts.UTC()
}

// newMessageID returns a random 128-bit id in hex, the form the collector generates too.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
