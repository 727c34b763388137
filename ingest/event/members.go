package event

import (
	"encoding/json"
	"math"
)

// What the parser reads of an event object. Both scanners — the fast one (fastitem.go) and the
// jsontext one (scan.go) — walk the members of an object and ask slot where each goes, so the
// two read the same members by construction and differ only in how they read JSON.

// span is where a value lies in the request body (the trimmed body the scanner read): the
// bytes src[at:end]. The zero span is no value. Items hold spans, not slices, so that they hold
// no pointers: writing one needs no write barrier, a pooled slice of them needs no clearing to
// drop references into the body, and an item is a third of the size.
type span struct{ at, end int32 }

// maxSpanBody is the longest body spans can address.
const maxSpanBody = math.MaxInt32

// spanAt is the span of v, a slice of src starting at offset at.
func spanAt(at int, v []byte) span { return span{int32(at), int32(at + len(v))} }

// ok reports whether the span holds a value.
func (v span) ok() bool { return v.end != 0 }

// of is the value's bytes in src (a slice of it, capacity cut to the value); nil for the zero
// span.
func (v span) of(src []byte) json.RawMessage {
	if v.end == 0 {
		return nil
	}
	return json.RawMessage(src[v.at:v.end:v.end])
}

// item is one event object as read in the single pass over a request body: its exact bytes and
// the members the parser reads (the last of a repeated name wins), all spans of the body.
type item struct {
	raw                                                          span
	messageID, typ, userID, anonymousID, previousID, event, name span
	timestamp, sentAt, properties, traits, context               span
	propsSp, ctxSp                                               special // of properties and context, when objects
}

// slot is where the value of the member called name goes: nil for a member the parser does not
// read; sp is not nil for properties and context, whose special members are noted in it when
// they are objects.
func (it *item) slot(name []byte) (dst *span, sp *special) {
	switch string(name) {
	case "messageId":
		return &it.messageID, nil
	case "type":
		return &it.typ, nil
	case "userId":
		return &it.userID, nil
	case "anonymousId":
		return &it.anonymousID, nil
	case "previousId":
		return &it.previousID, nil
	case "event":
		return &it.event, nil
	case "name":
		return &it.name, nil
	case "timestamp":
		return &it.timestamp, nil
	case "sentAt":
		return &it.sentAt, nil
	case "traits":
		return &it.traits, nil
	case "properties":
		return &it.properties, &it.propsSp
	case "context":
		return &it.context, &it.ctxSp
	}
	return nil, nil
}

// special is the members of a context or properties object the parser looks at.
type special struct {
	regionCode, serviceID, ip, server, userAgent, app span
	appVersion                                        span // app.version, when app is an object
	has                                               bool // ip or server is present
	// dup is set when region_code or service_id occurs twice (then only a re-encode can fix
	// it).
	dup bool
}

// The members of special, as fields orders them.
const (
	spRegion = iota
	spService
	spIP
	spServer
	spUserAgent
	spApp
	spAppVersion
	specialFields
)

func (sp *special) fields() [specialFields]*span {
	return [...]*span{&sp.regionCode, &sp.serviceID, &sp.ip, &sp.server, &sp.userAgent, &sp.app, &sp.appVersion}
}

// slot is where the value of the member called name goes and its index in fields; nil for a
// member the parser does not read. It notes a repeated region_code or service_id and the
// presence of ip or server. For app (spApp) the caller reads the object's version too.
func (sp *special) slot(name []byte) (*span, int) {
	switch string(name) {
	case "region_code":
		sp.dup = sp.dup || sp.regionCode.ok()
		return &sp.regionCode, spRegion
	case "service_id":
		sp.dup = sp.dup || sp.serviceID.ok()
		return &sp.serviceID, spService
	case "ip":
		sp.has = true
		return &sp.ip, spIP
	case "server":
		sp.has = true
		return &sp.server, spServer
	case "userAgent":
		return &sp.userAgent, spUserAgent
	case "app":
		return &sp.app, spApp
	}
	return nil, -1
}

// rewrite returns a copy of obj, in memory from grab, (the object sp was read from, at offset
// objAt of the body) with the region_code and service_id values replaced by region and service
// where those are not nil.
func (sp *special) rewrite(grab func(int) []byte, obj json.RawMessage, objAt int32, region, service json.RawMessage) json.RawMessage {
	type repl struct {
		at, n int
		v     json.RawMessage
	}
	reps := make([]repl, 0, 2)
	if region != nil {
		reps = append(reps, repl{int(sp.regionCode.at - objAt), int(sp.regionCode.end - sp.regionCode.at), region})
	}
	if service != nil {
		reps = append(reps, repl{int(sp.serviceID.at - objAt), int(sp.serviceID.end - sp.serviceID.at), service})
	}
	if len(reps) == 2 && reps[0].at > reps[1].at {
		reps[0], reps[1] = reps[1], reps[0]
	}
	n := len(obj)
	for _, r := range reps {
		n += len(r.v) - r.n
	}
	out := grab(n)
	last := 0
	for _, r := range reps {
		out = append(out, obj[last:r.at]...)
		out = append(out, r.v...)
		last = r.at + r.n
	}
	return append(out, obj[last:]...)
}
