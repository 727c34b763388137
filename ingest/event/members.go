package event

import "encoding/json"

// What the parser reads of an event object. Both scanners — the fast one (fastitem.go) and the
// jsontext one (scan.go) — walk the members of an object and ask slot where each goes, so the
// two read the same members by construction and differ only in how they read JSON.

// item is one event object as read in the single pass over a request body: its exact bytes and
// the members the parser reads (the last of a repeated name wins), all slices of the body.
type item struct {
	raw                                                          json.RawMessage
	messageID, typ, userID, anonymousID, previousID, event, name json.RawMessage
	timestamp, sentAt, properties, traits, context               json.RawMessage
	propsSp, ctxSp                                               special // of properties and context, when objects
}

// slot is where the value of the member called name goes: nil for a member the parser does not
// read; sp is not nil for properties and context, whose special members are noted in it when
// they are objects.
func (it *item) slot(name []byte) (dst *json.RawMessage, sp *special) {
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
	regionCode, serviceID, ip, server, userAgent, app json.RawMessage
	appVersion                                        json.RawMessage // app.version, when app is an object
	has                                               bool            // ip or server is present
	// regionAt and serviceAt are the offsets of the region_code and service_id values in the
	// object; dup is set when either name occurs twice (then only a re-encode can fix it).
	regionAt, serviceAt int
	dup                 bool
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

func (sp *special) fields() [specialFields]*json.RawMessage {
	return [...]*json.RawMessage{&sp.regionCode, &sp.serviceID, &sp.ip, &sp.server, &sp.userAgent, &sp.app, &sp.appVersion}
}

// slot is where the value of the member called name goes and its index in fields; nil for a
// member the parser does not read. It notes a repeated region_code or service_id and the
// presence of ip or server. For app (spApp) the caller reads the object's version too.
func (sp *special) slot(name []byte) (*json.RawMessage, int) {
	switch string(name) {
	case "region_code":
		sp.dup = sp.dup || sp.regionCode != nil
		return &sp.regionCode, spRegion
	case "service_id":
		sp.dup = sp.dup || sp.serviceID != nil
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

// rewrite returns a copy of obj, in memory from grab, (the object sp was read from) with the
// region_code and service_id values replaced by region and service where those are not nil.
func (sp *special) rewrite(grab func(int) []byte, obj json.RawMessage, region, service json.RawMessage) json.RawMessage {
	type repl struct {
		at, n int
		v     json.RawMessage
	}
	reps := make([]repl, 0, 2)
	if region != nil {
		reps = append(reps, repl{sp.regionAt, len(sp.regionCode), region})
	}
	if service != nil {
		reps = append(reps, repl{sp.serviceAt, len(sp.serviceID), service})
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
