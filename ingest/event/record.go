package event

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// DecodeRecord decodes a record of EventsTopic (an Event's JSON, as Encoder and AppendJSON write
// it) into e, with exactly the result of *e = Event{} followed by json.Unmarshal(data, e): the
// same fields, the same error or nil. Every pipeline that reads the events topic decodes each
// record, so the common form is read in one pass with the fast scanner — member names spelled
// as the encoder spells them, strings without escapes, times in the form MarshalJSON writes —
// and anything else (a syntax error, an escaped or differently spelled name, a null, an
// unexpected type) is left to encoding/json, whole. Context, Properties and Traits are copies,
// as encoding/json makes them (one allocation for the three).
func DecodeRecord(data []byte, e *Event) error {
	*e = Event{}
	if decodeFast(data, e) {
		return nil
	}
	*e = Event{}
	return json.Unmarshal(data, e)
}

// decodeFast is DecodeRecord's one pass; false means "not the common form" (e is then garbage).
func decodeFast(data []byte, e *Event) bool {
	s := fscan{src: data}
	if _, ok := s.enter(); !ok {
		return false
	}
	var ctx, props, traits json.RawMessage
	for n := 0; ; n++ {
		name, done, ok := s.member(n)
		if !ok {
			return false
		}
		if done {
			break
		}
		var dst *string
		var tdst *time.Time
		var rdst *json.RawMessage
		switch string(name) {
		case "messageId":
			dst = &e.MessageID
		case "type":
			dst = &e.Type
		case "event":
			dst = &e.Event
		case "name":
			dst = &e.Name
		case "userId":
			dst = &e.UserID
		case "anonymousId":
			dst = &e.AnonymousID
		case "previousId":
			dst = &e.PreviousID
		case "source":
			dst = &e.Source
		case "timestamp":
			tdst = &e.Timestamp
		case "sentAt":
			tdst = &e.SentAt
		case "receivedAt":
			tdst = &e.ReceivedAt
		case "context":
			rdst = &ctx
		case "properties":
			rdst = &props
		case "traits":
			rdst = &traits
		case "planFlags":
			flags, ok := s.stringArray()
			if !ok {
				return false
			}
			e.PlanFlags = flags
			continue
		default:
			return false // an unknown or differently spelled name: encoding/json matches names case-insensitively
		}
		v, ok := s.value()
		if !ok {
			return false
		}
		switch {
		case dst != nil:
			str, ok := plainString(v)
			if !ok {
				return false
			}
			*dst = str
		case tdst != nil:
			t, ok := fastTime(v)
			if !ok {
				if len(v) == 0 || v[0] != '"' || t.UnmarshalJSON(v) != nil {
					return false
				}
			}
			*tdst = t
		default:
			if v[0] == 'n' { // null: encoding/json keeps the literal in a RawMessage; leave it to it
				return false
			}
			*rdst = v
		}
	}
	if s.peek() != 0 {
		return false // trailing data
	}
	if n := len(ctx) + len(props) + len(traits); n > 0 {
		buf := make([]byte, 0, n)
		e.Context, buf = keep(buf, ctx)
		e.Properties, buf = keep(buf, props)
		e.Traits, _ = keep(buf, traits)
	}
	return true
}

// keep appends v to buf and returns the copy (nil for an absent v) and buf.
func keep(buf []byte, v json.RawMessage) (json.RawMessage, []byte) {
	if v == nil {
		return nil, buf
	}
	start := len(buf)
	buf = append(buf, v...)
	return json.RawMessage(buf[start:len(buf):len(buf)]), buf
}

// plainString is the value of the JSON string literal v when it has no escapes and is valid
// UTF-8 (encoding/json would unescape, or replace invalid bytes with U+FFFD).
func plainString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	b := v[1 : len(v)-1]
	high := false
	for _, c := range b {
		if c == '\\' {
			return "", false
		}
		high = high || c >= utf8.RuneSelf
	}
	if high && !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// stringArray reads an array of plain strings.
func (s *fscan) stringArray() ([]string, bool) {
	if s.peek() != '[' {
		return nil, false
	}
	s.i++
	var out []string
	if s.peek() == ']' {
		s.i++
		return []string{}, true
	}
	for {
		v, ok := s.value()
		if !ok {
			return nil, false
		}
		str, ok := plainString(v)
		if !ok {
			return nil, false
		}
		out = append(out, str)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, true
		default:
			return nil, false
		}
	}
}
