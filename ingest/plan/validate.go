package plan

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a plan's size, so that a plan cannot make the checker slow or huge.
const (
	MaxEvents     = 5000 // events in a plan
	MaxProperties = 500  // properties (or traits, or context fields) per schema
	MaxNameLen    = 200  // characters in an event, property or app name
	MaxPatternLen = 1000 // bytes in a pattern
	// MaxDepth is how deep schemas may nest below a top-level property, each properties or
	// items step counting one level: properties.cart.items.properties.price is 2 levels deep.
	MaxDepth = 8
)

// FieldError is one thing wrong with a plan: the path of the field and why, e.g.
// "events[3].properties.service_id.pattern: invalid Go regular expression: …".
type FieldError struct {
	Path   string
	Reason string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Reason }

// Errors is every FieldError of a plan, in file order.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Validate checks a plan whose defaults are filled in (as Parse leaves it) and returns Errors
// naming every bad field, or nil.
func (p Plan) Validate() error {
	v := &validator{}
	v.policy("unknown_events", p.UnknownEvents, false)
	for i, o := range p.Owners {
		if strings.TrimSpace(o) == "" {
			v.add(fmt.Sprintf("owners[%d]", i), "must not be empty")
		}
	}
	for _, name := range sortedNames(p.Apps) {
		path := "apps" + member(name)
		v.name(path, name, "app")
		v.policy(path+".unknown_events", p.Apps[name].UnknownEvents, true)
	}
	v.props("context", p.Context, 0)
	if len(p.Events) > MaxEvents {
		v.add("events", fmt.Sprintf("%d events, more than the %d allowed", len(p.Events), MaxEvents))
		return v.errs
	}
	seen := make(map[string]int, len(p.Events))
	for i, e := range p.Events {
		v.event(fmt.Sprintf("events[%d]", i), e)
		if j, dup := seen[e.key()]; dup {
			v.add(fmt.Sprintf("events[%d]", i), fmt.Sprintf("duplicate of events[%d] (%s)", j, e.Label()))
		} else {
			seen[e.key()] = i
		}
	}
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

type validator struct{ errs Errors }

func (v *validator) add(path, reason string) { v.errs = append(v.errs, FieldError{path, reason}) }

func (v *validator) policy(path, val string, emptyOK bool) {
	switch val {
	case Allow, Flag, Reject:
	case "":
		if !emptyOK {
			v.add(path, "required: allow, flag or reject")
		}
	default:
		v.add(path, fmt.Sprintf("unknown policy %s: want allow, flag or reject", strconv.Quote(val)))
	}
}

// name checks an event, property or app name.
func (v *validator) name(path, name, what string) {
	switch {
	case name == "":
		v.add(path, fmt.Sprintf("the %s name must not be empty", what))
	case utf8.RuneCountInString(name) > MaxNameLen:
		v.add(path, fmt.Sprintf("the %s name is longer than %d characters", what, MaxNameLen))
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		v.add(path, fmt.Sprintf("the %s name must be valid UTF-8 without control characters", what))
	}
}

func (v *validator) event(path string, e Event) {
	switch e.Type {
	case "track", "page", "screen", "identify":
	default:
		v.add(path+".type", fmt.Sprintf("unknown type %s: want track, page, screen or identify", strconv.Quote(e.Type)))
	}
	switch {
	case e.Type == "identify" && e.Name != "":
		v.add(path+".name", "identify events have no name; remove it")
	case e.Type != "identify" && e.Name == "":
		v.add(path+".name", "required: the event name (track) or page/screen name, or * for every name of the type")
	case e.Type != "identify":
		v.name(path+".name", e.Name, "event")
	}
	switch e.Status {
	case Enabled, Disabled:
	default:
		v.add(path+".status", fmt.Sprintf("unknown status %s: want enabled or disabled", strconv.Quote(e.Status)))
	}
	seen := map[string]int{}
	for i, app := range e.Apps {
		p := fmt.Sprintf("%s.apps[%d]", path, i)
		if j, dup := seen[app]; dup {
			v.add(p, fmt.Sprintf("duplicate of apps[%d] (%s)", j, app))
			continue
		}
		seen[app] = i
		v.name(p, app, "app")
	}
	if e.Type == "identify" && e.Properties != nil {
		v.add(path+".properties", "identify events have traits, not properties")
	}
	if e.Type != "identify" && e.Traits != nil {
		v.add(path+".traits", "only identify events have traits; use properties")
	}
	v.props(path+".properties", e.Properties, 0)
	v.props(path+".traits", e.Traits, 0)
}

// props checks the schemas of an object's fields; depth is 0 for properties, traits and
// context, and one more for each properties or items step below them.
func (v *validator) props(path string, m map[string]Property, depth int) {
	if len(m) > MaxProperties {
		v.add(path, fmt.Sprintf("%d fields, more than the %d allowed", len(m), MaxProperties))
		return
	}
	for _, name := range sortedNames(m) {
		p := path + member(name)
		v.name(p, name, "property")
		v.prop(p, m[name], depth)
	}
}

func (v *validator) prop(path string, p Property, depth int) {
	if depth > MaxDepth {
		v.add(path, fmt.Sprintf("nested more than %d levels deep (each properties or items step is a level)", MaxDepth))
		return
	}
	switch p.Type {
	case TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeObject, TypeArray:
	case "":
		v.add(path+".type", "required: string, integer, number, boolean, object or array")
		return
	default:
		v.add(path+".type", fmt.Sprintf("unknown type %s: want string, integer, number, boolean, object or array", strconv.Quote(p.Type)))
		return
	}
	numeric := p.Type == TypeInteger || p.Type == TypeNumber
	if p.Enum != nil {
		v.enum(path+".enum", p)
	}
	if p.Pattern != "" {
		switch {
		case p.Type != TypeString:
			v.add(path+".pattern", "only for string properties")
		case len(p.Pattern) > MaxPatternLen:
			v.add(path+".pattern", fmt.Sprintf("longer than %d bytes", MaxPatternLen))
		default:
			if _, err := regexp.Compile(p.Pattern); err != nil {
				v.add(path+".pattern", fmt.Sprintf("invalid Go regular expression: %v", err))
			}
		}
	}
	for _, b := range []struct {
		name string
		val  *float64
	}{{"min", p.Min}, {"max", p.Max}} {
		switch {
		case b.val == nil:
		case !numeric:
			v.add(path+"."+b.name, "only for number and integer properties")
		case !finite(*b.val):
			v.add(path+"."+b.name, "must be a finite number")
		}
	}
	if numeric && p.Min != nil && p.Max != nil && finite(*p.Min) && finite(*p.Max) && *p.Min > *p.Max {
		v.add(path+".max", fmt.Sprintf("%s is less than min %s", num(*p.Max), num(*p.Min)))
	}
	for _, b := range []struct {
		name string
		val  *int
	}{{"min_length", p.MinLength}, {"max_length", p.MaxLength}} {
		switch {
		case b.val == nil:
		case p.Type != TypeString:
			v.add(path+"."+b.name, "only for string properties")
		case *b.val < 0:
			v.add(path+"."+b.name, "must not be negative")
		}
	}
	if p.Type == TypeString && p.MinLength != nil && p.MaxLength != nil && *p.MinLength > *p.MaxLength {
		v.add(path+".max_length", fmt.Sprintf("%d is less than min_length %d", *p.MaxLength, *p.MinLength))
	}
	v.nested(path, p, depth)
}

// nested checks what an object or array schema holds: its fields' schemas, its items' schema,
// its bounds on the number of items.
func (v *validator) nested(path string, p Property, depth int) {
	for _, b := range []struct {
		name string
		val  *int
	}{{"min_items", p.MinItems}, {"max_items", p.MaxItems}} {
		switch {
		case b.val == nil:
		case p.Type != TypeArray:
			v.add(path+"."+b.name, "only for array properties")
		case *b.val < 0:
			v.add(path+"."+b.name, "must not be negative")
		}
	}
	if p.Type == TypeArray && p.MinItems != nil && p.MaxItems != nil && *p.MinItems > *p.MaxItems {
		v.add(path+".max_items", fmt.Sprintf("%d is less than min_items %d", *p.MaxItems, *p.MinItems))
	}
	if p.Properties != nil {
		if p.Type != TypeObject {
			v.add(path+".properties", "only for object properties; an array's elements are described by items")
		} else {
			v.props(path+".properties", p.Properties, depth+1)
		}
	}
	if p.Items != nil {
		switch {
		case p.Type != TypeArray:
			v.add(path+".items", "only for array properties")
		case p.Items.Required && depth+1 <= MaxDepth:
			v.add(path+".items.required", "not allowed on items: every element is checked and a null element fails the type rule; use min_items")
			fallthrough
		default:
			v.prop(path+".items", *p.Items, depth+1)
		}
	}
}

func (v *validator) enum(path string, p Property) {
	switch p.Type {
	case TypeObject, TypeArray:
		v.add(path, fmt.Sprintf("not allowed for %s properties", p.Type))
		return
	}
	if len(p.Enum) == 0 {
		v.add(path, "must list at least one value")
		return
	}
	seen := map[any]int{}
	for i, val := range p.Enum {
		ip := fmt.Sprintf("%s[%d]", path, i)
		ok := false
		switch x := val.(type) {
		case string:
			ok = p.Type == TypeString
		case bool:
			ok = p.Type == TypeBoolean
		case float64:
			ok = (p.Type == TypeNumber && finite(x)) || (p.Type == TypeInteger && finite(x) && math.Trunc(x) == x)
		}
		if !ok {
			v.add(ip, fmt.Sprintf("%s is not a valid %s", show(val), p.Type))
			continue
		}
		if j, dup := seen[val]; dup {
			v.add(ip, fmt.Sprintf("duplicate of enum[%d]", j))
			continue
		}
		seen[val] = i
	}
}

// member is the path step to a map entry: ".name", or `["name"]` when the name is not a plain word.
func member(name string) string {
	plain := name != ""
	for _, r := range name {
		if !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if plain {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// show renders an enum value for a message.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return num(x)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", x)
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
