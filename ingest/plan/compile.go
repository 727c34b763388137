package plan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/citypulse/citypulse/ingest/event"
)

// Checker is a plan compiled for checking events: regular expressions compiled, enums in sets,
// lookups by event type and name. It is immutable and safe for concurrent use.
type Checker struct {
	version int
	unknown string            // plan policy
	perApp  map[string]string // app → policy, only apps that override
	byType  [4]map[string]*checkedEvent
	wild    [4]*checkedEvent
	context *schema // nil when the plan has no context fields
}

type checkedEvent struct {
	label    string // "track service_open"
	nameFld  string // "event", "name" or "" (identify)
	disabled bool
	apps     map[string]struct{} // nil: every app
	appList  string              // for messages
	props    *schema             // properties or traits; nil when none are declared
}

// schema is an object's compiled field schemas: properties, traits, context, or an object
// nested in one of them.
type schema struct {
	prefix string  // the rejection field of the object itself: "properties", "traits", "context"; "" when nested
	fields []field // sorted by name
	index  map[string]int
}

type kind uint8

const (
	kString kind = iota
	kInteger
	kNumber
	kBoolean
	kObject
	kArray
)

var kinds = map[string]kind{TypeString: kString, TypeInteger: kInteger, TypeNumber: kNumber, TypeBoolean: kBoolean, TypeObject: kObject, TypeArray: kArray}

type field struct {
	name     string
	path     string // the schema's path in the plan: "properties.cart.items.properties.price"
	typ      kind
	typeName string
	required bool

	enumStr  map[string]struct{}
	enumNum  []float64
	enumBool [2]bool // [false allowed, true allowed]
	hasEnum  bool
	enumText string

	re             *regexp.Regexp
	min, max       float64
	hasMin, hasMax bool
	minLen, maxLen int
	hasMinLen      bool
	hasMaxLen      bool

	obj                      *schema // object: its fields' schemas; nil: checked for being an object only
	items                    *field  // array: every element's schema; nil: elements are not checked
	minItems, maxItems       int
	hasMinItems, hasMaxItems bool
}

func typeIndex(t string) int {
	switch t {
	case event.TypeTrack:
		return 0
	case event.TypePage:
		return 1
	case event.TypeScreen:
		return 2
	case event.TypeIdentify:
		return 3
	}
	return -1
}

// Compile validates p and builds its Checker.
func Compile(p Plan) (*Checker, error) {
	p.normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Checker{unknown: p.UnknownEvents, perApp: map[string]string{}}
	for name, app := range p.Apps {
		if app.UnknownEvents != "" {
			c.perApp[name] = app.UnknownEvents
		}
	}
	for t := range c.byType {
		c.byType[t] = map[string]*checkedEvent{}
	}
	var err error
	if c.context, err = compileSchema("context", p.Context); err != nil {
		return nil, err
	}
	for _, e := range p.Events {
		ce := &checkedEvent{label: e.Label(), disabled: e.Status == Disabled}
		switch e.Type {
		case event.TypeTrack:
			ce.nameFld = "event"
		case event.TypePage, event.TypeScreen:
			ce.nameFld = "name"
		}
		if len(e.Apps) > 0 {
			ce.apps = make(map[string]struct{}, len(e.Apps))
			for _, a := range e.Apps {
				ce.apps[a] = struct{}{}
			}
			ce.appList = strings.Join(e.Apps, ", ")
		}
		props, prefix := e.Properties, "properties"
		if e.Type == event.TypeIdentify {
			props, prefix = e.Traits, "traits"
		}
		if ce.props, err = compileSchema(prefix, props); err != nil {
			return nil, err
		}
		t := typeIndex(e.Type)
		if e.Name == Wildcard {
			c.wild[t] = ce
		} else {
			c.byType[t][e.Name] = ce
		}
	}
	return c, nil
}

// compileSchema compiles the top-level fields of properties, traits or context (prefix); nil
// when there are none.
func compileSchema(prefix string, m map[string]Property) (*schema, error) {
	if len(m) == 0 {
		return nil, nil
	}
	s, err := compileFields(prefix, m)
	if err != nil {
		return nil, err
	}
	s.prefix = prefix
	return s, nil
}

// compileFields compiles the schemas of an object's fields; path is the object's path in the plan.
func compileFields(path string, m map[string]Property) (*schema, error) {
	s := &schema{index: make(map[string]int, len(m))}
	for _, name := range sortedNames(m) {
		f, err := compileField(name, path+"."+name, m[name])
		if err != nil {
			return nil, err
		}
		s.index[name] = len(s.fields)
		s.fields = append(s.fields, f)
	}
	return s, nil
}

// compileField compiles one schema and those nested in it (Validate has bounded their depth).
func compileField(name, path string, p Property) (field, error) {
	f := field{name: name, path: path, typ: kinds[p.Type], typeName: p.Type, required: p.Required}
	if p.Pattern != "" {
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return field{}, fmt.Errorf("%s.pattern: %w", f.path, err)
		}
		f.re = re
	}
	if len(p.Enum) > 0 {
		f.hasEnum = true
		shown := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			shown[i] = show(v)
			switch x := v.(type) {
			case string:
				if f.enumStr == nil {
					f.enumStr = map[string]struct{}{}
				}
				f.enumStr[x] = struct{}{}
			case float64:
				f.enumNum = append(f.enumNum, x)
			case bool:
				if x {
					f.enumBool[1] = true
				} else {
					f.enumBool[0] = true
				}
			}
		}
		f.enumText = strings.Join(shown, ", ")
	}
	if p.Min != nil {
		f.min, f.hasMin = *p.Min, true
	}
	if p.Max != nil {
		f.max, f.hasMax = *p.Max, true
	}
	if p.MinLength != nil {
		f.minLen, f.hasMinLen = *p.MinLength, true
	}
	if p.MaxLength != nil {
		f.maxLen, f.hasMaxLen = *p.MaxLength, true
	}
	if p.MinItems != nil {
		f.minItems, f.hasMinItems = *p.MinItems, true
	}
	if p.MaxItems != nil {
		f.maxItems, f.hasMaxItems = *p.MaxItems, true
	}
	if len(p.Properties) > 0 {
		obj, err := compileFields(path+".properties", p.Properties)
		if err != nil {
			return field{}, err
		}
		f.obj = obj
	}
	if p.Items != nil {
		items, err := compileField("", path+".items", *p.Items)
		if err != nil {
			return field{}, err
		}
		f.items = &items
	}
	return f, nil
}
