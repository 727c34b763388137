package plan

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/event"
)

// Rules a Rejection from Check can name (event.Rejection.Rule).
const (
	RuleUnknownEvent  = "unknown_event"
	RuleDisabled      = "disabled"
	RuleAppNotEnabled = "app_not_enabled"
	RuleRequired      = "required"
	RuleType          = "type"
	RuleEnum          = "enum"
	RulePattern       = "pattern"
	RuleMin           = "min"
	RuleMax           = "max"
	RuleMinLength     = "min_length"
	RuleMaxLength     = "max_length"
	RuleMinItems      = "min_items"
	RuleMaxItems      = "max_items"
)

// FlagUnknownEvent is the flag Check returns for an unknown event under the flag policy.
const FlagUnknownEvent = "unknown_event"

// flagsUnknown is shared by every flagged verdict; callers must not modify it.
var flagsUnknown = []string{FlagUnknownEvent}

// Version is the plan version the Checker was built from (0 when not from the store).
func (c *Checker) Version() int { return c.version }

// Check judges one event sent by app source. It returns a rejection (with Code event.CodePlan,
// Field, Event, Rule and Reason set; the caller sets Index and Raw) when the plan refuses the
// event, else the flags to record on it (nil, or a shared slice the caller must not modify).
// It reads only the compiled plan and the event; it allocates only to describe a rejection.
func (c *Checker) Check(source string, e *event.Event) (reject *event.Rejection, flags []string) {
	t := typeIndex(e.Type)
	if t < 0 {
		return nil, nil // the event parser admits only the four types
	}
	key := e.Event // the plan's name for the event, and the name rejections report
	switch t {
	case 1, 2:
		key = e.Name
	case 3:
		key = "" // identify events have no name in the plan
	}
	name := key
	if t == 3 {
		name = "identify"
	}
	ce := c.byType[t][key]
	if ce == nil {
		ce = c.wild[t]
	}
	if ce == nil {
		policy := c.unknown
		if p, ok := c.perApp[source]; ok {
			policy = p
		}
		if policy == Reject {
			return c.unknownEvent(source, e, t, name), nil
		}
		if r := c.checkContext(e, name); r != nil {
			return r, nil
		}
		if policy == Flag {
			return nil, flagsUnknown
		}
		return nil, nil
	}
	switch {
	case ce.disabled:
		return c.reject(e, ce.nameFld, name, RuleDisabled, fmt.Sprintf("%s is disabled in the tracking plan%s", ce.label, c.ofVersion())), nil
	case ce.apps != nil:
		if _, ok := ce.apps[source]; !ok {
			return c.reject(e, ce.nameFld, name, RuleAppNotEnabled,
				fmt.Sprintf("%s is not enabled for app %s in the tracking plan%s (enabled for: %s)", ce.label, strconv.Quote(source), c.ofVersion(), ce.appList)), nil
		}
	}
	if ce.props != nil {
		obj := e.Properties
		if t == 3 {
			obj = e.Traits
		}
		if r := c.checkObject(e, name, ce.label, ce.props, obj); r != nil {
			return r, nil
		}
	}
	return c.checkContext(e, name), nil
}

func (c *Checker) checkContext(e *event.Event, name string) *event.Rejection {
	if c.context == nil {
		return nil
	}
	return c.checkObject(e, name, "every event", c.context, e.Context)
}

func (c *Checker) unknownEvent(source string, e *event.Event, t int, name string) *event.Rejection {
	field, label := "event", "track "+strconv.Quote(name)
	switch t {
	case 1, 2:
		field, label = "name", e.Type+" "+strconv.Quote(name)
	case 3:
		field, label = "", "identify"
	}
	return c.reject(e, field, name, RuleUnknownEvent,
		fmt.Sprintf("%s is not in the tracking plan%s, which rejects unknown events from app %s", label, c.ofVersion(), strconv.Quote(source)))
}

func (c *Checker) ofVersion() string {
	if c.version == 0 {
		return ""
	}
	return " (version " + strconv.Itoa(c.version) + ")"
}

func (c *Checker) reject(e *event.Event, field, name, rule, reason string) *event.Rejection {
	return &event.Rejection{MessageID: e.MessageID, Field: field, Code: event.CodePlan, Event: name, Rule: rule, Reason: reason}
}

// checkObject checks a properties, traits or context object against a schema.
func (c *Checker) checkObject(e *event.Event, name, label string, s *schema, raw []byte) *event.Rejection {
	v := s.check(raw)
	if v.rule == "" {
		return nil
	}
	if v.rule == RuleRequired {
		v.reason = fmt.Sprintf("required by the tracking plan%s for %s: a %s", c.ofVersion(), label, v.reason)
	}
	if v.path == "" {
		v.path = s.prefix // the object itself
	}
	return c.reject(e, v.path, name, v.rule, v.reason)
}

// step is the path step to field f of s: its full path ("properties.cart") at the top level,
// where the path of a violation is complete, else ".cart".
func (s *schema) step(f *field) string {
	if s.prefix != "" {
		return f.path
	}
	return "." + f.name
}

// violation is the first rule a value breaks; rule is "" when it breaks none.
type violation struct {
	// path leads from the value checked to the bad one: "" (the value itself) or a chain of
	// ".field" and "[index]" steps, ".cart.items[2].price"; from a top-level schema, the full
	// path, "properties.cart.items[2].price". It is built only on failure.
	path   string
	rule   string
	reason string // for RuleRequired, the missing field's type name
}

var notAnObject = violation{rule: RuleType, reason: "must be a JSON object"}

// check checks the JSON object raw (empty counts as {}) against the field schemas of s.
func (s *schema) check(raw []byte) violation {
	var seenBuf [64]bool
	seen := seenBuf[:0]
	if len(s.fields) <= len(seenBuf) {
		seen = seenBuf[:len(s.fields)]
	} else {
		seen = make([]bool, len(s.fields))
	}
	var it members
	if err := it.start(raw); err != nil {
		return notAnObject
	}
	for {
		key, val, ok, err := it.next()
		if err != nil {
			return notAnObject
		}
		if !ok {
			break
		}
		k, ok := unquote(key)
		if !ok {
			return notAnObject
		}
		i, known := s.index[string(k)]
		if !known {
			continue
		}
		f := &s.fields[i]
		if isNull(val) {
			continue
		}
		seen[i] = true
		if v := f.check(val); v.rule != "" {
			v.path = s.step(f) + v.path
			return v
		}
	}
	for i := range s.fields {
		if f := &s.fields[i]; f.required && !seen[i] {
			return violation{path: s.step(f), rule: RuleRequired, reason: f.typeName}
		}
	}
	return violation{}
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// check judges one present value (not null, unless it is an array element) and what is nested
// in it.
func (f *field) check(val []byte) violation {
	switch f.typ {
	case kString:
		if val[0] != '"' {
			return violation{rule: RuleType, reason: "must be a string, not " + event.JSONKind(val)}
		}
		s, ok := unquote(val)
		if !ok {
			return violation{rule: RuleType, reason: "must be a valid JSON string"}
		}
		if f.hasEnum {
			if _, ok := f.enumStr[string(s)]; !ok {
				return violation{rule: RuleEnum, reason: fmt.Sprintf("%s is not one of %s", quoteCut(s), f.enumText)}
			}
		}
		if f.hasMinLen || f.hasMaxLen {
			n := utf8.RuneCount(s)
			if f.hasMinLen && n < f.minLen {
				return violation{rule: RuleMinLength, reason: fmt.Sprintf("is %d characters, fewer than the minimum %d", n, f.minLen)}
			}
			if f.hasMaxLen && n > f.maxLen {
				return violation{rule: RuleMaxLength, reason: fmt.Sprintf("is %d characters, more than the maximum %d", n, f.maxLen)}
			}
		}
		if f.re != nil && !f.re.Match(s) {
			return violation{rule: RulePattern, reason: fmt.Sprintf("%s does not match the pattern %s", quoteCut(s), f.re.String())}
		}
	case kInteger, kNumber:
		x, ok := parseNumber(val)
		if !ok {
			return violation{rule: RuleType, reason: fmt.Sprintf("must be %s, not %s", article(f.typeName), event.JSONKind(val))}
		}
		if f.typ == kInteger && math.Trunc(x) != x {
			return violation{rule: RuleType, reason: fmt.Sprintf("must be an integer, not %s", cutBytes(val))}
		}
		if f.hasEnum && !containsFloat(f.enumNum, x) {
			return violation{rule: RuleEnum, reason: fmt.Sprintf("%s is not one of %s", cutBytes(val), f.enumText)}
		}
		if f.hasMin && x < f.min {
			return violation{rule: RuleMin, reason: fmt.Sprintf("%s is less than the minimum %s", cutBytes(val), num(f.min))}
		}
		if f.hasMax && x > f.max {
			return violation{rule: RuleMax, reason: fmt.Sprintf("%s is more than the maximum %s", cutBytes(val), num(f.max))}
		}
	case kBoolean:
		var b bool
		switch string(val) {
		case "true":
			b = true
		case "false":
		default:
			return violation{rule: RuleType, reason: "must be a boolean, not " + event.JSONKind(val)}
		}
		if f.hasEnum && !f.enumBool[boolIndex(b)] {
			return violation{rule: RuleEnum, reason: fmt.Sprintf("%t is not one of %s", b, f.enumText)}
		}
	case kObject:
		if val[0] != '{' {
			return violation{rule: RuleType, reason: "must be an object, not " + event.JSONKind(val)}
		}
		if f.obj != nil {
			return f.obj.check(val)
		}
	case kArray:
		if val[0] != '[' {
			return violation{rule: RuleType, reason: "must be an array, not " + event.JSONKind(val)}
		}
		if f.items != nil || f.hasMinItems || f.hasMaxItems {
			return f.checkArray(val)
		}
	}
	return violation{}
}

func parseNumber(val []byte) (float64, bool) {
	if c := val[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(val), 64)
	return x, err == nil && finite(x)
}

func containsFloat(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func article(typeName string) string {
	if typeName == TypeInteger {
		return "an integer"
	}
	return "a number"
}

func quoteCut(s []byte) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(string(bytes.ToValidUTF8(s[:max], nil))) + "…"
	}
	return strconv.Quote(string(s))
}

func cutBytes(v []byte) string {
	const max = 64
	if len(v) > max {
		return string(v[:max]) + "…"
	}
	return string(v)
}
