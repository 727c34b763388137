package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/event"
)

// Row is one dwd_events row. Times are Unix seconds; EventDate is the local date (YYYY-MM-DD) in
// the pipeline's time zone.
type Row struct {
	EventDate   string
	EventTime   int64
	ReceivedAt  int64
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	UserKey     string
	SessionID   string
	RegionCode  string
	ServiceID   uint32
	Source      string
	App         string
	OS          string
	Device      string
	Properties  string
}

// Columns are the dwd_events columns in the order Values returns them.
var Columns = []string{"event_date", "event_time", "received_at", "message_id", "type", "event",
	"user_id", "anonymous_id", "user_key", "session_id", "region_code", "service_id", "source",
	"app", "os", "device", "properties", "loaded_at"}

// Values returns the row as column values for Columns, with loadedAt as loaded_at.
func (r Row) Values(loc *time.Location, loadedAt time.Time) ([]any, error) {
	day, err := time.ParseInLocation(time.DateOnly, r.EventDate, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("event_date %q: %w", r.EventDate, err)
	}
	return []any{day, time.Unix(r.EventTime, 0).In(loc), time.Unix(r.ReceivedAt, 0).In(loc), r.MessageID, r.Type, r.Event,
		r.UserID, r.AnonymousID, r.UserKey, r.SessionID, r.RegionCode, r.ServiceID, r.Source,
		r.App, r.OS, r.Device, r.Properties, loadedAt}, nil
}

// ErrUnusable marks an event that cannot become a row; the reason says why.
var ErrUnusable = errors.New("unusable event")

// Limits on cleaned text fields, in runes.
const (
	maxIDLen   = 256
	maxNameLen = 512
)

// earliest is the oldest event time accepted.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Clean turns a decoded event into a row (alias rows carry the previous id in AnonymousID): it trims and de-noises text (invalid UTF-8 replaced,
// control characters removed, length capped), lower-cases the type, takes region_code, service_id
// and session_id from the context (or the properties), normalises numbers given as strings, and
// derives the local event date in loc. It returns an error wrapping ErrUnusable when the event has
// no identity, an unknown type or an impossible time.
func Clean(e event.Event, loc *time.Location) (Row, error) {
	r := Row{
		MessageID:   cleanText(e.MessageID, maxIDLen),
		Type:        strings.ToLower(cleanText(e.Type, 16)),
		UserID:      cleanText(e.UserID, maxIDLen),
		AnonymousID: cleanText(e.AnonymousID, maxIDLen),
		Source:      cleanText(e.Source, maxIDLen),
	}
	if r.MessageID == "" {
		return Row{}, fmt.Errorf("%w: messageId is empty", ErrUnusable)
	}
	switch r.Type {
	case "track":
		r.Event = cleanText(e.Event, maxNameLen)
	case "page", "screen":
		r.Event = cleanText(e.Name, maxNameLen)
	case "identify":
		r.Event = "identify"
	case "alias":
		// An alias joins PreviousID (usually the anonymous id used before login) to UserID: the row
		// keeps the previous id in anonymous_id (unless the event had one of its own) so identity
		// stitching is a query over type = 'alias'.
		r.Event = "alias"
		prev := cleanText(e.PreviousID, maxIDLen)
		if prev == "" || r.UserID == "" {
			return Row{}, fmt.Errorf("%w: alias needs both previousId and userId", ErrUnusable)
		}
		if r.AnonymousID == "" {
			r.AnonymousID = prev
		}
	default:
		return Row{}, fmt.Errorf("%w: type %q is not track, page, screen, identify or alias", ErrUnusable, e.Type)
	}
	r.UserKey = r.UserID
	if r.UserKey == "" {
		r.UserKey = r.AnonymousID
	}
	if r.UserKey == "" {
		return Row{}, fmt.Errorf("%w: neither userId nor anonymousId is set", ErrUnusable)
	}
	ts := e.Timestamp
	if ts.IsZero() {
		ts = e.ReceivedAt
	}
	if ts.Before(earliest) {
		return Row{}, fmt.Errorf("%w: timestamp %s is before %s", ErrUnusable, ts.Format(time.RFC3339), earliest.Format(time.DateOnly))
	}
	received := e.ReceivedAt
	if received.IsZero() {
		received = ts
	}
	r.EventTime, r.ReceivedAt = ts.Unix(), received.Unix()
	r.EventDate = ts.In(loc).Format(time.DateOnly)

	var ctx [6]json.RawMessage // contextKeys
	var props [3]json.RawMessage
	var sub [1]json.RawMessage
	lookup(e.Context, contextKeys, ctx[:])
	lookup(e.Properties, contextKeys[:3], props[:])
	r.RegionCode = digits(firstNonEmpty(scalar(ctx[0]), scalar(props[0])))
	if len(r.RegionCode) != 12 {
		r.RegionCode = ""
	}
	if sid := firstNonEmpty(scalar(props[1]), scalar(ctx[1])); sid != "" {
		if n, err := strconv.ParseFloat(sid, 64); err == nil && n >= 1 && n <= 1<<32-1 && n == float64(uint32(n)) {
			r.ServiceID = uint32(n)
		}
	}
	r.SessionID = cleanText(firstNonEmpty(scalar(ctx[2]), scalar(props[2])), maxIDLen)
	lookupOf(ctx[3], nameKey, sub[:], true)
	r.App = cleanText(scalar(sub[0]), maxNameLen)
	lookupOf(ctx[4], nameKey, sub[:], true)
	r.OS = cleanText(scalar(sub[0]), maxNameLen)
	lookupOf(ctx[5], typeKey, sub[:], true)
	r.Device = cleanText(scalar(sub[0]), maxNameLen)
	r.Properties = compactJSON(e.Properties)
	return r, nil
}

// cleanText replaces invalid UTF-8, drops control and format characters, collapses runs of
// white space, trims, and caps the length at max runes.
func cleanText(s string, max int) string {
	if plainText(s, max) {
		return s
	}
	return cleanTextSlow(s, max)
}

// plainText reports whether cleanTextSlow would return s unchanged: valid UTF-8 without
// control, format or space characters other than single inner ASCII spaces, at most max runes.
func plainText(s string, max int) bool {
	n := 0
	for i := 0; i < len(s); n++ {
		if n >= max {
			return false
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if i == 0 || i == len(s)-1 || s[i+1] == ' ' {
					return false
				}
			case c < 0x20 || c == 0x7f:
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
		i += size
	}
	return true
}

// cleanTextSlow is cleanText for any text.
func cleanTextSlow(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	space := false
	n := 0
	for _, c := range s {
		if unicode.IsSpace(c) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= max {
			break
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}

// The members Clean reads: of the context (the first three also of the properties), and of the
// context's app and os (name) and device (type).
var (
	contextKeys = []string{"region_code", "service_id", "session_id", "app", "os", "device"}
	nameKey     = []string{"name"}
	typeKey     = []string{"type"}
)

func object(raw json.RawMessage) map[string]json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// scalar returns a JSON string's value or a JSON number's text; "" for anything else.
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if s, ok := plainScalar(raw); ok {
		return s
	}
	return scalarSlow(raw)
}

// plainScalar is scalar's common cases, without encoding/json: a string without escapes in
// valid UTF-8, or a number of digits only (raw is trimmed and not empty).
func plainScalar(raw json.RawMessage) (string, bool) {
	if raw[0] == '"' {
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return "", false
		}
		b := raw[1 : len(raw)-1]
		for _, c := range b {
			if c == '\\' || c == '"' || c < 0x20 {
				return "", false
			}
		}
		if !utf8.Valid(b) {
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	if raw[0] == '0' && len(raw) > 1 {
		return "", false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return string(raw), true
}

// scalarSlow is scalar for any trimmed, non-empty raw.
func scalarSlow(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

func digits(s string) string {
	if strings.Trim(s, "0123456789") != "" {
		return ""
	}
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func compactJSON(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return "{}"
	}
	if compactAlready(raw) && json.Valid(raw) && utf8.Valid(raw) {
		return string(raw)
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "{}"
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

// compactAlready reports whether raw has no white space outside its strings (what json.Compact
// removes), reading strings as JSON does.
func compactAlready(raw []byte) bool {
	in := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}
