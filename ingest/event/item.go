package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
	"unsafe"
)

// parser holds what every item of one request shares.
type parser struct {
	src         []byte    // the body the items' spans refer to
	now         time.Time // collector time, UTC
	source      string
	batchCtx    map[string]json.RawMessage // nil when the batch has none
	batchSentAt time.Time                  // zero when the batch has none
	origin      *Origin                    // nil: no enrichment
	ua          uaMemo
	srvMemo     serverMemo
	strs        strMemo
	text        strArena                          // memory of the strings decoded for this request's events
	ctxPrev     struct{ in, out json.RawMessage } // the last context as received and as stored
	arena       []byte                            // memory for the rewritten objects of this request's events
}

// grab returns an empty slice with capacity n from p's arena: the objects the parser rewrites
// for a request's events share a few allocations instead of one each.
func (p *parser) grab(n int) []byte {
	const maxChunk = 16 << 10
	if n > maxChunk/4 {
		return make([]byte, 0, n)
	}
	if cap(p.arena)-len(p.arena) < n {
		// Chunks grow from 1 KB: most requests rewrite little (one context.server splice
		// when the batch shares its context), and a new chunk is cleared memory.
		size := min(max(2*cap(p.arena), 1<<10, n), maxChunk)
		p.arena = make([]byte, 0, size)
	}
	l := len(p.arena)
	p.arena = p.arena[:l+n]
	return p.arena[l : l : l+n]
}

// strMemo remembers the last string decoded for each field: a batch's events share their type,
// ids, event names and user agent, and decoding each of them again would allocate it again.
type strMemo struct {
	raw  [memoSlots][memoWays]json.RawMessage
	s    [memoSlots][memoWays]string
	next [memoSlots]uint8
}

// memoWays is how many strings strMemo remembers per field (event names alternate).
const memoWays = 8

// The fields strMemo remembers.
const (
	memoType = iota
	memoUserID
	memoAnonymousID
	memoPreviousID
	memoEvent
	memoName
	memoUserAgent
	memoSlots
)

// str is jsonString through the memo's slot, decoding into a when it is not nil.
func (m *strMemo) str(slot int, raw json.RawMessage, a *strArena) (string, bool) {
	if len(raw) > 0 && raw[0] == '"' {
		for w := range memoWays {
			if string(m.raw[slot][w]) == string(raw) {
				return m.s[slot][w], true
			}
		}
	}
	var s string
	var ok bool
	if a != nil {
		s, ok = a.jsonString(raw)
	} else {
		s, ok = jsonString(raw)
	}
	if ok && len(raw) > 0 && raw[0] == '"' {
		w := m.next[slot] % memoWays
		m.raw[slot][w], m.s[slot][w] = raw, s
		m.next[slot] = w + 1
	}
	return s, ok
}

// id is idString through the memo, decoding into a.
func (m *strMemo) id(slot int, raw json.RawMessage, a *strArena) (string, bool) {
	if JSONKind(raw) == "a string" {
		return m.str(slot, bytes.TrimSpace(raw), a)
	}
	return idString(raw)
}

// strArena holds the strings decoded for one request's events (message ids, user ids, event
// names) in a few shared allocations instead of one each. Its memory is written once and never
// reused, so the strings are as immutable as any; a string kept past the request keeps its
// chunk (at most maxTextChunk bytes) alive, which is why the User-Agent, which the collector's
// cache keeps, is not decoded here.
type strArena struct{ buf []byte }

// maxTextChunk is the largest chunk strArena allocates.
const maxTextChunk = 4 << 10

// string returns a copy of b as a string in the arena.
func (a *strArena) string(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > maxTextChunk/8 {
		return string(b)
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, min(max(2*cap(a.buf), 512), maxTextChunk))
	}
	l := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[l], n)
}

// jsonString is jsonString decoding into the arena: a string of printable ASCII without
// escapes is copied as it is, anything else is decoded on the heap.
func (a *strArena) jsonString(raw json.RawMessage) (string, bool) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && plainASCII(raw[1:n-1]) {
		return a.string(raw[1 : n-1]), true
	}
	return jsonString(raw)
}

// plainASCII reports whether b is printable ASCII without '"' or '\\': a JSON string's
// content that decodes to itself.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if plainByte[c] == 0 {
			return false
		}
	}
	return true
}

// typeName is the type constant a "type" value spells in the form SDKs send it; ok is false
// for anything else (then decode it).
func typeName(v json.RawMessage) (string, bool) {
	switch string(v) {
	case `"track"`:
		return TypeTrack, true
	case `"page"`:
		return TypePage, true
	case `"screen"`:
		return TypeScreen, true
	case `"identify"`:
		return TypeIdentify, true
	case `"alias"`:
		return TypeAlias, true
	}
	return "", false
}

// epoch is the earliest event time accepted: the warehouse stores seconds since 1970.
var epoch = time.Unix(0, 0).UTC()

// parseItem validates one event object into *ev (whatever it held before) and returns nil, or
// its Rejection (then *ev holds nothing of use). typ, when not empty, is the type the path
// names and wins over the item's own "type".
func (p *parser) parseItem(index int, typ string, f *item, ev *Event) *Rejection {
	raw := f.raw.of(p.src)
	*ev = Event{Source: p.source, ReceivedAt: p.now}
	reject := func(field, code, reason string) *Rejection {
		r := raw
		if p.origin != nil && f.ctxSp.ip.ok() {
			r = scrubRaw(raw) // the dead letter must not store a full IP either
		}
		return &Rejection{Index: index, MessageID: ev.MessageID, Field: field, Code: code, Reason: reason, Raw: r}
	}
	if len(raw) > MaxEventBytes {
		return reject("", CodeTooLarge, fmt.Sprintf("event is %d bytes, more than the %d allowed", len(raw), MaxEventBytes))
	}
	if JSONKind(raw) != "an object" {
		return reject("", CodeNotObject, fmt.Sprintf("event must be a JSON object, not %s", JSONKind(raw)))
	}

	// messageId first, so that every later rejection carries it.
	if v := f.messageID.of(p.src); present(v) {
		s, ok := p.text.jsonString(v)
		if !ok {
			return reject("messageId", CodeWrongType, fmt.Sprintf("must be a string, not %s", JSONKind(v)))
		}
		if n := utf8.RuneCountInString(s); n > MaxMessageIDLen {
			return reject("messageId", CodeTooLong, fmt.Sprintf("is %d characters, more than the %d allowed", n, MaxMessageIDLen))
		}
		ev.MessageID = s
	}

	if typ == "" {
		v := f.typ.of(p.src)
		if !present(v) {
			return reject("type", CodeRequired, "required: one of track, page, screen, identify, alias")
		}
		s, ok := typeName(v)
		if !ok {
			s, ok = p.strs.str(memoType, v, nil)
		}
		if !ok {
			return reject("type", CodeWrongType, fmt.Sprintf("must be a string, not %s", JSONKind(v)))
		}
		typ = s
	}
	switch typ {
	case TypeTrack, TypePage, TypeScreen, TypeIdentify, TypeAlias:
		ev.Type = typ
	default:
		return reject("type", CodeInvalid, fmt.Sprintf("unknown type %s: want track, page, screen, identify or alias", quoteCut(typ)))
	}

	var ids [3]string
	for i, id := range [...]struct {
		field string
		v     span
	}{{"userId", f.userID}, {"anonymousId", f.anonymousID}, {"previousId", f.previousID}} {
		v := id.v.of(p.src)
		if !present(v) {
			continue
		}
		s, ok := p.strs.id(memoUserID+i, v, &p.text)
		if !ok {
			return reject(id.field, CodeWrongType, fmt.Sprintf("must be a string or a number, not %s", JSONKind(v)))
		}
		if n := utf8.RuneCountInString(s); n > MaxIDLen {
			return reject(id.field, CodeTooLong, fmt.Sprintf("is %d characters, more than the %d allowed", n, MaxIDLen))
		}
		ids[i] = s
	}
	ev.UserID, ev.AnonymousID, ev.PreviousID = ids[0], ids[1], ids[2]
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
		v := f.event.of(p.src)
		if !present(v) {
			return reject("event", CodeRequired, "required for a track call: the event name")
		}
		s, ok := p.strs.str(memoEvent, v, &p.text)
		if !ok {
			return reject("event", CodeWrongType, fmt.Sprintf("must be a string, not %s", JSONKind(v)))
		}
		if s == "" {
			return reject("event", CodeRequired, "required for a track call: the event name")
		}
		ev.Event = s
	case TypePage, TypeScreen:
		if v := f.name.of(p.src); present(v) {
			s, ok := p.strs.str(memoName, v, &p.text)
			if !ok {
				return reject("name", CodeWrongType, fmt.Sprintf("must be a string, not %s", JSONKind(v)))
			}
			ev.Name = s
		}
	}

	if field, code, reason := p.times(f, ev); reason != "" {
		return reject(field, code, reason)
	}
	if field, code, reason := p.objects(f, ev); reason != "" {
		return reject(field, code, reason)
	}
	if ev.MessageID == "" {
		ev.MessageID = NewMessageID()
	}
	return nil
}

// times sets SentAt and the skew-corrected Timestamp. Segment semantics: when the client sent
// sentAt, its clock is taken to be off by sentAt − now, so timestamp += now − sentAt.
func (p *parser) times(f *item, ev *Event) (field, code, reason string) {
	ev.SentAt = p.batchSentAt
	if v := f.sentAt.of(p.src); present(v) {
		t, reason := parseTime(v)
		if reason != "" {
			return "sentAt", timeCode(v), reason
		}
		ev.SentAt = t
	}
	v := f.timestamp.of(p.src)
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
	// Written out rather than looped over pointers into ev, which would move ev to the heap.
	var ok bool
	if ev.Properties, ok = objectValue(f.properties.of(p.src)); !ok {
		return "properties", CodeWrongType, fmt.Sprintf("must be an object, not %s", JSONKind(f.properties.of(p.src)))
	}
	if ev.Traits, ok = objectValue(f.traits.of(p.src)); !ok {
		return "traits", CodeWrongType, fmt.Sprintf("must be an object, not %s", JSONKind(f.traits.of(p.src)))
	}
	if ev.Context, ok = objectValue(f.context.of(p.src)); !ok {
		return "context", CodeWrongType, fmt.Sprintf("must be an object, not %s", JSONKind(f.context.of(p.src)))
	}

	if ev.Properties != nil {
		sp := &f.propsSp
		region, service, field, reason := canonValues(p.src, sp)
		if reason != "" {
			return "properties." + field, CodeInvalid, reason
		}
		switch {
		case (region != nil || service != nil) && !sp.dup:
			ev.Properties = sp.rewrite(p.grab, ev.Properties, f.properties.at, region, service)
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

	// Within a request the context that comes out is a function of the bytes that came in, and
	// a batch's events usually carry the same ones: the last result is reused (shared, like the
	// body, by the events of the request; nobody writes to it).
	in := ev.Context
	if in != nil && p.ctxPrev.in != nil && bytes.Equal(in, p.ctxPrev.in) {
		ev.Context = p.ctxPrev.out
		return "", "", ""
	}
	var sp special
	if ev.Context != nil {
		sp = f.ctxSp
	}
	needMap := p.batchCtx != nil || (p.origin != nil && sp.has)
	if !needMap {
		region, service, field, reason := canonValues(p.src, &sp)
		if reason != "" {
			return "context." + field, CodeInvalid, reason
		}
		if region != nil || service != nil {
			if sp.dup {
				needMap = true
			} else {
				ev.Context = sp.rewrite(p.grab, ev.Context, f.context.at, region, service)
			}
		}
	}
	if !needMap {
		if p.origin != nil {
			if server := p.server(sp.userAgent.of(p.src), sp.appVersion.of(p.src)); server != nil {
				ev.Context = spliceServer(p.grab, ev.Context, server)
			}
		}
		if in != nil {
			p.ctxPrev.in, p.ctxPrev.out = in, ev.Context
		}
		return "", "", ""
	}
	return p.rebuildContext(ev)
}

// objectValue is v when it is an object, nil when it is absent or null; false for any other
// value.
func objectValue(v json.RawMessage) (json.RawMessage, bool) {
	if !present(v) {
		return nil, true
	}
	return v, JSONKind(v) == "an object"
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
