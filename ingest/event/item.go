package event

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// parser holds what every item of one request shares.
type parser struct {
	now         time.Time // collector time, UTC
	source      string
	batchCtx    map[string]json.RawMessage // nil when the batch has none
	batchSentAt time.Time                  // zero when the batch has none
}

// epoch is the earliest event time accepted: the warehouse stores seconds since 1970.
var epoch = time.Unix(0, 0).UTC()

// parseItem validates one event object. typ, when not empty, is the type the path names and
// wins over the item's own "type".
func (p *parser) parseItem(index int, typ string, raw json.RawMessage) (Event, *Rejection) {
	ev := Event{Source: p.source, ReceivedAt: p.now}
	reject := func(field, code, reason string) (Event, *Rejection) {
		return Event{}, &Rejection{Index: index, MessageID: ev.MessageID, Field: field, Code: code, Reason: reason, Raw: raw}
	}
	if len(raw) > MaxEventBytes {
		return reject("", CodeTooLarge, fmt.Sprintf("event is %d bytes, more than the %d allowed", len(raw), MaxEventBytes))
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return reject("", CodeNotObject, fmt.Sprintf("event must be a JSON object, not %s", kind(raw)))
	}

	// messageId first, so that every later rejection carries it.
	if v := f["messageId"]; present(v) {
		s, ok := jsonString(v)
		if !ok {
			return reject("messageId", CodeWrongType, fmt.Sprintf("must be a string, not %s", kind(v)))
		}
		if n := utf8.RuneCountInString(s); n > MaxMessageIDLen {
			return reject("messageId", CodeTooLong, fmt.Sprintf("is %d characters, more than the %d allowed", n, MaxMessageIDLen))
		}
		ev.MessageID = s
	}

	if typ == "" {
		v := f["type"]
		if !present(v) {
			return reject("type", CodeRequired, "required: one of track, page, screen, identify")
		}
		s, ok := jsonString(v)
		if !ok {
			return reject("type", CodeWrongType, fmt.Sprintf("must be a string, not %s", kind(v)))
		}
		typ = s
	}
	switch typ {
	case TypeTrack, TypePage, TypeScreen, TypeIdentify:
		ev.Type = typ
	default:
		return reject("type", CodeInvalid, fmt.Sprintf("unknown type %s: want track, page, screen or identify", quoteCut(typ)))
	}

	for _, id := range []struct {
		field string
		dst   *string
	}{{"userId", &ev.UserID}, {"anonymousId", &ev.AnonymousID}} {
		v := f[id.field]
		if !present(v) {
			continue
		}
		s, ok := idString(v)
		if !ok {
			return reject(id.field, CodeWrongType, fmt.Sprintf("must be a string or a number, not %s", kind(v)))
		}
		if n := utf8.RuneCountInString(s); n > MaxIDLen {
			return reject(id.field, CodeTooLong, fmt.Sprintf("is %d characters, more than the %d allowed", n, MaxIDLen))
		}
		*id.dst = s
	}
	if ev.UserID == "" && ev.AnonymousID == "" {
		return reject("userId", CodeRequired, "userId or anonymousId is required")
	}

	switch ev.Type {
	case TypeTrack:
		v := f["event"]
		if !present(v) {
			return reject("event", CodeRequired, "required for a track call: the event name")
		}
		s, ok := jsonString(v)
		if !ok {
			return reject("event", CodeWrongType, fmt.Sprintf("must be a string, not %s", kind(v)))
		}
		if s == "" {
			return reject("event", CodeRequired, "required for a track call: the event name")
		}
		ev.Event = s
	case TypePage, TypeScreen:
		if v := f["name"]; present(v) {
			s, ok := jsonString(v)
			if !ok {
				return reject("name", CodeWrongType, fmt.Sprintf("must be a string, not %s", kind(v)))
			}
			ev.Name = s
		}
	}

	if field, code, reason := p.times(f, &ev); reason != "" {
		return reject(field, code, reason)
	}
	if field, code, reason := p.objects(f, &ev); reason != "" {
		return reject(field, code, reason)
	}
	if ev.MessageID == "" {
		ev.MessageID = NewMessageID()
	}
	return ev, nil
}

// times sets SentAt and the skew-corrected Timestamp. Segment semantics: when the client sent
// sentAt, its clock is taken to be off by sentAt − now, so timestamp += now − sentAt.
func (p *parser) times(f map[string]json.RawMessage, ev *Event) (field, code, reason string) {
	ev.SentAt = p.batchSentAt
	if v := f["sentAt"]; present(v) {
		t, reason := parseTime(v)
		if reason != "" {
			return "sentAt", timeCode(v), reason
		}
		ev.SentAt = t
	}
	v := f["timestamp"]
	if !present(v) {
		ev.Timestamp = p.now
		return "", "", ""
	}
	t, reason := parseTime(v)
	if reason != "" {
		return "timestamp", timeCode(v), reason
	}
	if !ev.SentAt.IsZero() {
		t = t.Add(p.now.Sub(ev.SentAt))
	}
	if limit := p.now.Add(MaxFuture); t.After(limit) {
		return "timestamp", CodeFuture, fmt.Sprintf("%s (after clock-skew correction) is more than %s ahead of the collector's clock", t.Format(time.RFC3339), MaxFuture)
	}
	if t.Before(epoch) {
		return "timestamp", CodeInvalid, fmt.Sprintf("%s (after clock-skew correction) is before 1970", t.Format(time.RFC3339))
	}
	ev.Timestamp = t
	return "", "", ""
}

func timeCode(v json.RawMessage) string {
	if _, ok := jsonString(v); !ok {
		return CodeWrongType
	}
	return CodeInvalid
}

// objects checks properties, traits and context, merges the batch context under the event's and
// normalises region_code and service_id.
func (p *parser) objects(f map[string]json.RawMessage, ev *Event) (field, code, reason string) {
	var props, ctx map[string]json.RawMessage
	for _, o := range []struct {
		field string
		dst   *map[string]json.RawMessage
		raw   *json.RawMessage
	}{{"properties", &props, &ev.Properties}, {"traits", nil, &ev.Traits}, {"context", &ctx, &ev.Context}} {
		v := f[o.field]
		if !present(v) {
			continue
		}
		if kind(v) != "an object" {
			return o.field, CodeWrongType, fmt.Sprintf("must be an object, not %s", kind(v))
		}
		*o.raw = v
		if o.dst != nil {
			if err := json.Unmarshal(v, o.dst); err != nil {
				return o.field, CodeWrongType, fmt.Sprintf("must be an object: %v", err)
			}
		}
	}

	ctxChanged := false
	if p.batchCtx != nil {
		merged, err := mergeObjects(p.batchCtx, ctx)
		if err != nil {
			return "context", CodeInvalid, fmt.Sprintf("cannot merge with the batch context: %v", err)
		}
		ctx, ctxChanged = merged, true
	}
	for _, o := range []struct {
		field   string
		m       map[string]json.RawMessage
		raw     *json.RawMessage
		changed bool
	}{{"context", ctx, &ev.Context, ctxChanged}, {"properties", props, &ev.Properties, false}} {
		if o.m == nil {
			continue
		}
		changed, field, reason := normalise(o.m)
		if reason != "" {
			return o.field + "." + field, CodeInvalid, reason
		}
		if changed || o.changed {
			b, err := json.Marshal(o.m)
			if err != nil {
				return o.field, CodeInvalid, fmt.Sprintf("cannot re-encode: %v", err)
			}
			*o.raw = b
		}
	}
	return "", "", ""
}
