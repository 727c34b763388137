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
	origin      *Origin                    // nil: no enrichment
	ua          uaMemo
	srvMemo     serverMemo
}

// epoch is the earliest event time accepted: the warehouse stores seconds since 1970.
var epoch = time.Unix(0, 0).UTC()

// parseItem validates one event object. typ, when not empty, is the type the path names and
// wins over the item's own "type".
func (p *parser) parseItem(index int, typ string, f *item) (Event, *Rejection) {
	raw := f.raw
	ev := Event{Source: p.source, ReceivedAt: p.now}
	reject := func(field, code, reason string) (Event, *Rejection) {
		r := raw
		if p.origin != nil && f.ctxSp.ip != nil {
			r = scrubRaw(raw) // the dead letter must not store a full IP either
		}
		return Event{}, &Rejection{Index: index, MessageID: ev.MessageID, Field: field, Code: code, Reason: reason, Raw: r}
	}
	if len(raw) > MaxEventBytes {
		return reject("", CodeTooLarge, fmt.Sprintf("event is %d bytes, more than the %d allowed", len(raw), MaxEventBytes))
	}
	if kind(raw) != "an object" {
		return reject("", CodeNotObject, fmt.Sprintf("event must be a JSON object, not %s", kind(raw)))
	}

	// messageId first, so that every later rejection carries it.
	if v := f.messageID; present(v) {
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
		v := f.typ
		if !present(v) {
			return reject("type", CodeRequired, "required: one of track, page, screen, identify, alias")
		}
		s, ok := jsonString(v)
		if !ok {
			return reject("type", CodeWrongType, fmt.Sprintf("must be a string, not %s", kind(v)))
		}
		typ = s
	}
	switch typ {
	case TypeTrack, TypePage, TypeScreen, TypeIdentify, TypeAlias:
		ev.Type = typ
	default:
		return reject("type", CodeInvalid, fmt.Sprintf("unknown type %s: want track, page, screen, identify or alias", quoteCut(typ)))
	}

	for _, id := range []struct {
		field string
		v     json.RawMessage
		dst   *string
	}{{"userId", f.userID, &ev.UserID}, {"anonymousId", f.anonymousID, &ev.AnonymousID}, {"previousId", f.previousID, &ev.PreviousID}} {
		v := id.v
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
	if ev.Type == TypeAlias {
		if ev.PreviousID == "" {
			return reject("previousId", CodeRequired, "required for an alias call: the id the user had before (usually the anonymousId)")
		}
		if ev.UserID == "" {
			return reject("userId", CodeRequired, "required for an alias call: the id the user has now")
		}
	} else {
		ev.PreviousID = "" // only alias carries it
	}
	if ev.UserID == "" && ev.AnonymousID == "" {
		return reject("userId", CodeRequired, "userId or anonymousId is required")
	}

	switch ev.Type {
	case TypeTrack:
		v := f.event
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
		if v := f.name; present(v) {
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
func (p *parser) times(f *item, ev *Event) (field, code, reason string) {
	ev.SentAt = p.batchSentAt
	if v := f.sentAt; present(v) {
		t, reason := parseTime(v)
		if reason != "" {
			return "sentAt", timeCode(v), reason
		}
		ev.SentAt = t
	}
	v := f.timestamp
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

// objects checks properties, traits and context, merges the batch context under the event's,
// normalises region_code and service_id and, with an Origin, scrubs the context and stamps
// context.server. An object that needs no change is kept as the client sent it; only one that
// changes is decoded into a map and re-encoded.
func (p *parser) objects(f *item, ev *Event) (field, code, reason string) {
	for _, o := range []struct {
		field string
		v     json.RawMessage
		dst   *json.RawMessage
	}{{"properties", f.properties, &ev.Properties}, {"traits", f.traits, &ev.Traits}, {"context", f.context, &ev.Context}} {
		if !present(o.v) {
			continue
		}
		if kind(o.v) != "an object" {
			return o.field, CodeWrongType, fmt.Sprintf("must be an object, not %s", kind(o.v))
		}
		*o.dst = o.v
	}

	if ev.Properties != nil {
		sp := &f.propsSp
		region, service, field, reason := canonValues(sp)
		if reason != "" {
			return "properties." + field, CodeInvalid, reason
		}
		switch {
		case (region != nil || service != nil) && !sp.dup:
			ev.Properties = sp.rewrite(ev.Properties, region, service)
		case region != nil || service != nil:
			m, err := objectMembers(ev.Properties)
			if err != nil {
				return "properties", CodeWrongType, fmt.Sprintf("must be an object: %v", err)
			}
			normalise(m)
			if ev.Properties, err = json.Marshal(m); err != nil {
				return "properties", CodeInvalid, fmt.Sprintf("cannot re-encode: %v", err)
			}
		}
	}

	var sp special
	if ev.Context != nil {
		sp = f.ctxSp
	}
	needMap := p.batchCtx != nil || (p.origin != nil && sp.has)
	if !needMap {
		region, service, field, reason := canonValues(&sp)
		if reason != "" {
			return "context." + field, CodeInvalid, reason
		}
		if region != nil || service != nil {
			if sp.dup {
				needMap = true
			} else {
				ev.Context = sp.rewrite(ev.Context, region, service)
			}
		}
	}
	if !needMap {
		if p.origin != nil {
			if server := p.server(sp.userAgent, sp.appVersion); server != nil {
				ev.Context = spliceServer(ev.Context, server)
			}
		}
		return "", "", ""
	}
	return p.rebuildContext(ev)
}

// rebuildContext is the slow path of objects for the context: decode, merge the batch
// context, normalise, scrub, stamp and re-encode.
func (p *parser) rebuildContext(ev *Event) (field, code, reason string) {
	ctx := map[string]json.RawMessage{}
	if ev.Context != nil {
		m, err := objectMembers(ev.Context)
		if err != nil {
			return "context", CodeWrongType, fmt.Sprintf("must be an object: %v", err)
		}
		ctx = m
	}
	if p.batchCtx != nil {
		merged, err := mergeObjects(p.batchCtx, ctx)
		if err != nil {
			return "context", CodeInvalid, fmt.Sprintf("cannot merge with the batch context: %v", err)
		}
		ctx = merged
	}
	if _, field, reason := normalise(ctx); reason != "" {
		return "context." + field, CodeInvalid, reason
	}
	if p.origin != nil {
		scrub(ctx)
		if server := p.server(ctx["userAgent"], appVersion(ctx["app"])); server != nil {
			ctx["server"] = server
		}
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return "context", CodeInvalid, fmt.Sprintf("cannot re-encode: %v", err)
	}
	ev.Context = b
	return "", "", ""
}
