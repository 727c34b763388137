package plan

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	var seenBuf [64]bool
	seen := seenBuf[:0]
	if len(s.fields) <= len(seenBuf) {
		seen = seenBuf[:len(s.fields)]
	} else {
		seen = make([]bool, len(s.fields))
	}
	var it members
	if err := it.start(raw); err != nil {
		return c.reject(e, prefixOf(s), name, RuleType, "must be a JSON object")
	}
	for {
		key, val, ok, err := it.next()
		if err != nil {
			return c.reject(e, prefixOf(s), name, RuleType, "must be a JSON object")
		}
		if !ok {
			break
		}
		k, ok := unquote(key)
		if !ok {
			return c.reject(e, prefixOf(s), name, RuleType, "must be a JSON object")
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
		if rule, reason := f.check(val); rule != "" {
			return c.reject(e, f.path, name, rule, reason)
		}
	}
	for i := range s.fields {
		if f := &s.fields[i]; f.required && !seen[i] {
			return c.reject(e, f.path, name, RuleRequired, fmt.Sprintf("required by the tracking plan%s for %s: a %s", c.ofVersion(), label, f.typeName))
		}
	}
	return nil
}

func prefixOf(s *schema) string {
	p, _, _ := strings.Cut(s.fields[0].path, ".")
	return p
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// check judges one present, non-null value; rule is "" when it passes.
func (f *field) check(val []byte) (rule, reason string) {
	switch f.typ {
	case kString:
		if val[0] != '"' {
			return RuleType, "must be a string, not " + event.JSONKind(val)
		}
		s, ok := unquote(val)
		if !ok {
			return RuleType, "must be a valid JSON string"
		}
		if f.hasEnum {
			if _, ok := f.enumStr[string(s)]; !ok {
				return RuleEnum, fmt.Sprintf("%s is not one of %s", quoteCut(s), f.enumText)
			}
		}
		if f.hasMinLen || f.hasMaxLen {
			n := utf8.RuneCount(s)
			if f.hasMinLen && n < f.minLen {
				return RuleMinLength, fmt.Sprintf("is %d characters, fewer than the minimum %d", n, f.minLen)
			}
			if f.hasMaxLen && n > f.maxLen {
				return RuleMaxLength, fmt.Sprintf("is %d characters, more than the maximum %d", n, f.maxLen)
			}
		}
		if f.re != nil && !f.re.Match(s) {
			return RulePattern, fmt.Sprintf("%s does not match the pattern %s", quoteCut(s), f.re.String())
		}
	case kInteger, kNumber:
		x, ok := parseNumber(val)
		if !ok {
			return RuleType, fmt.Sprintf("must be %s, not %s", article(f.typeName), event.JSONKind(val))
		}
		if f.typ == kInteger && math.Trunc(x) != x {
			return RuleType, fmt.Sprintf("must be an integer, not %s", cutBytes(val))
		}
		if f.hasEnum && !containsFloat(f.enumNum, x) {
			return RuleEnum, fmt.Sprintf("%s is not one of %s", cutBytes(val), f.enumText)
		}
		if f.hasMin && x < f.min {
			return RuleMin, fmt.Sprintf("%s is less than the minimum %s", cutBytes(val), num(f.min))
		}
		if f.hasMax && x > f.max {
			return RuleMax, fmt.Sprintf("%s is more than the maximum %s", cutBytes(val), num(f.max))
		}
	case kBoolean:
		var b bool
		switch string(val) {
		case "true":
			b = true
		case "false":
		default:
			return RuleType, "must be a boolean, not " + event.JSONKind(val)
		}
		if f.hasEnum && !f.enumBool[boolIndex(b)] {
			return RuleEnum, fmt.Sprintf("%t is not one of %s", b, f.enumText)
		}
	case kObject:
		if val[0] != '{' {
			return RuleType, "must be an object, not " + event.JSONKind(val)
		}
	case kArray:
		if val[0] != '[' {
			return RuleType, "must be an array, not " + event.JSONKind(val)
		}
	}
	return "", ""
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
