package event

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// NewMessageID returns a random 128-bit id in hex, for events that came without a messageId.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// JSONKind names the JSON type of a raw value for messages ("an object", "a string", …;
// "nothing" when empty). The tracking plan's messages use it too.
func JSONKind(raw []byte) string {
	if len(raw) == 0 || !plainEnds(raw) {
		raw = bytes.TrimSpace(raw)
	}
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

// jsonString decodes raw when it is a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if JSONKind(raw) != "a string" {
		return "", false
	}
	if !plainEnds(raw) {
		raw = bytes.TrimSpace(raw)
	}
	return unquote(raw), true
}

// idString accepts a string, or a number kept as its literal text (so 12345678901234567890
// stays exact).
func idString(raw json.RawMessage) (string, bool) {
	switch JSONKind(raw) {
	case "a string":
		return jsonString(raw)
	case "a number":
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// quoteCut quotes s for a message, cut to a readable length.
func quoteCut(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// timeLayouts are the ISO-8601 forms accepted for timestamp and sentAt, most common first. A
// time without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                      // 2024-05-01T08:30:00.123Z, …+08:00
	"2006-01-02T15:04:05.999999999Z0700",  // …+0800
	"2006-01-02T15:04:05.999999999Z07",    // …+08
	"2006-01-02T15:04:05.999999999",       // no zone
	"2006-01-02 15:04:05.999999999Z07:00", // space instead of T
	"2006-01-02",                          // a date
}

// parseTime reads an ISO-8601 timestamp; reason is "" on success.
func parseTime(raw json.RawMessage) (time.Time, string) {
	if t, ok := fastTime(raw); ok {
		return t, ""
	}
	s, ok := jsonString(raw)
	if !ok {
		return time.Time{}, fmt.Sprintf("must be an ISO-8601 string, not %s", JSONKind(raw))
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), ""
		}
	}
	return time.Time{}, fmt.Sprintf("%s is not an ISO-8601 time (e.g. 2024-05-01T08:30:00.000Z)", quoteCut(s))
}

// mergeObjects returns base overlaid with over: over's keys win, except that where both hold an
// object, the two objects are merged the same way. Neither input is modified.
func mergeObjects(base, over map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		b, ok := out[k]
		if !ok || JSONKind(b) != "an object" || JSONKind(v) != "an object" {
			out[k] = v
			continue
		}
		bm, err := objectMembers(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		om, err := objectMembers(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m, err := mergeObjects(bm, om)
		if err != nil {
			return nil, fmt.Errorf("%s.%w", k, err)
		}
		enc, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = enc
	}
	return out, nil
}

// normalise checks region_code and service_id in one object (context or properties) and
// rewrites them to their canonical forms: region_code a string of 12 digits, service_id a JSON
// number in 1…MaxUint32. It reports whether it rewrote anything, or the bad field and why.
func normalise(m map[string]json.RawMessage) (changed bool, field, reason string) {
	if v, ok := m["region_code"]; ok {
		canon, reason := canonRegion(v)
		if reason != "" {
			return false, "region_code", reason
		}
		if canon != nil {
			m["region_code"], changed = canon, true
		}
	}
	if v, ok := m["service_id"]; ok {
		canon, reason := canonService(v)
		if reason != "" {
			return false, "service_id", reason
		}
		if canon != nil {
			m["service_id"], changed = canon, true
		}
	}
	return changed, "", ""
}

// canonValues checks the region_code and service_id of sp (spans of src) and returns their canonical forms
// where they are not canonical yet (nil where they are, or are absent), or the bad field and why.
func canonValues(src []byte, sp *special) (region, service json.RawMessage, field, reason string) {
	if region, reason = canonRegion(sp.regionCode.of(src)); reason != "" {
		return nil, nil, "region_code", reason
	}
	if service, reason = canonService(sp.serviceID.of(src)); reason != "" {
		return nil, nil, "service_id", reason
	}
	return region, service, "", ""
}

// canonRegion checks a region_code value: it returns the canonical form when v is valid but not
// in it (nil when v is canonical or absent), or why it is invalid.
func canonRegion(v json.RawMessage) (json.RawMessage, string) {
	if fastRegion(v) {
		return nil, ""
	}
	if !present(v) {
		return nil, ""
	}
	var code string
	switch JSONKind(v) {
	case "a string":
		code, _ = jsonString(v)
	case "a number":
		code = string(bytes.TrimSpace(v))
	}
	if !allDigits(code) || len(code) != RegionCodeLen {
		return nil, fmt.Sprintf("must be a %d-digit statistical division code (e.g. \"510104017001\"), not %s", RegionCodeLen, cut(v))
	}
	if JSONKind(v) != "a string" || len(bytes.TrimSpace(v)) != RegionCodeLen+2 {
		return json.RawMessage(strconv.Quote(code)), ""
	}
	return nil, ""
}

// canonService is canonRegion for service_id.
func canonService(v json.RawMessage) (json.RawMessage, string) {
	if canon, ok := fastService(v); ok {
		return canon, ""
	}
	return slowService(v)
}

// slowService is canonService for every form.
func slowService(v json.RawMessage) (json.RawMessage, string) {
	if !present(v) {
		return nil, ""
	}
	var digits string
	switch JSONKind(v) {
	case "a string":
		digits, _ = jsonString(v)
	case "a number":
		digits = string(bytes.TrimSpace(v))
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if !allDigits(digits) || err != nil || n == 0 || n > math.MaxUint32 {
		return nil, fmt.Sprintf("must be a positive integer up to %d (a number or a numeric string), not %s", uint32(math.MaxUint32), cut(v))
	}
	canon := strconv.FormatUint(n, 10)
	if JSONKind(v) != "a number" || canon != digits {
		return json.RawMessage(canon), ""
	}
	return nil, ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cut shows a raw value in a message, shortened.
func cut(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	const max = 64
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}
