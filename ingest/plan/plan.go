package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Plan is a tracking plan as written in a plan file; the store gives each applied plan a version.
// The YAML and JSON field names are the same (snake_case); see docs/tracking-plan.md.
type Plan struct {
	// Description says what the plan covers, for people.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Owners are the people or teams answering for the plan.
	Owners []string `yaml:"owners,omitempty" json:"owners,omitempty"`
	// UnknownEvents is what happens to an event the plan does not list: allow, flag (pass it
	// with the flag "unknown_event") or reject (dead-letter it). Default flag.
	UnknownEvents string `yaml:"unknown_events,omitempty" json:"unknown_events,omitempty"`
	// Apps holds per-app settings, keyed by the app (source) a write key stands for.
	Apps map[string]App `yaml:"apps,omitempty" json:"apps,omitempty"`
	// Context holds schemas for top-level context fields, checked on every event.
	Context map[string]Property `yaml:"context,omitempty" json:"context,omitempty"`
	// Events are the events the plan knows.
	Events []Event `yaml:"events" json:"events"`
}

// App is one app's settings.
type App struct {
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// UnknownEvents overrides the plan's UnknownEvents for this app ("" = the plan's).
	UnknownEvents string `yaml:"unknown_events,omitempty" json:"unknown_events,omitempty"`
}

// Event is one event of the plan, identified by its type and name.
type Event struct {
	// Name is the track event name, or the page or screen name; "*" stands for every name of its
	// type that has no entry of its own. Identify events have no name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Type is track (the default), page, screen or identify.
	Type        string `yaml:"type,omitempty" json:"type,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Owner       string `yaml:"owner,omitempty" json:"owner,omitempty"`
	// Apps are the apps (sources) allowed to send the event; empty means every app.
	Apps []string `yaml:"apps,omitempty" json:"apps,omitempty"`
	// Status is enabled (the default) or disabled; a disabled event is rejected.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// Properties are the schemas of the event's properties (track, page, screen).
	Properties map[string]Property `yaml:"properties,omitempty" json:"properties,omitempty"`
	// Traits are the schemas of an identify event's traits.
	Traits map[string]Property `yaml:"traits,omitempty" json:"traits,omitempty"`
}

// Property is the schema of one property, trait or context field. Properties not in the plan
// are allowed; a property whose value is null counts as absent.
type Property struct {
	// Type is string, integer, number, boolean, object or array.
	Type        string `yaml:"type" json:"type"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Required    bool   `yaml:"required,omitempty" json:"required,omitempty"`
	// Enum lists the allowed values (strings, numbers or booleans, per Type).
	Enum []any `yaml:"enum,omitempty" json:"enum,omitempty"`
	// Pattern is a Go regular expression (RE2 syntax) a string must match somewhere; anchor it
	// with ^…$ to match the whole value.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// Min and Max bound a number or integer, inclusive.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// MinLength and MaxLength bound a string's length in characters (Unicode code points).
	MinLength *int `yaml:"min_length,omitempty" json:"min_length,omitempty"`
	MaxLength *int `yaml:"max_length,omitempty" json:"max_length,omitempty"`
	// Properties are the schemas of an object's fields (type object only), with the same rules
	// as top-level properties, nesting again up to MaxDepth levels. Without them an object is
	// checked for being an object only.
	Properties map[string]Property `yaml:"properties,omitempty" json:"properties,omitempty"`
	// Items is the schema every element of an array must follow (type array only). Elements
	// are never absent: a null element fails the type rule. Required is not allowed here.
	Items *Property `yaml:"items,omitempty" json:"items,omitempty"`
	// MinItems and MaxItems bound an array's number of elements, inclusive.
	MinItems *int `yaml:"min_items,omitempty" json:"min_items,omitempty"`
	MaxItems *int `yaml:"max_items,omitempty" json:"max_items,omitempty"`
}

// Unknown-event policies.
const (
	Allow  = "allow"
	Flag   = "flag"
	Reject = "reject"
)

// Event statuses.
const (
	Enabled  = "enabled"
	Disabled = "disabled"
)

// Property types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeObject  = "object"
	TypeArray   = "array"
)

// Wildcard is the event name that matches every name of its type without an entry of its own.
const Wildcard = "*"

// MaxPlanBytes bounds a plan file or API body.
const MaxPlanBytes = 4 << 20

// Parse reads a plan from YAML, or from JSON when data starts with '{', rejecting unknown fields,
// fills in defaults and validates it. Errors name the path of the bad field; a plan with several
// errors gives them all (as Errors).
func Parse(data []byte) (Plan, error) {
	if len(data) > MaxPlanBytes {
		return Plan{}, &DecodeError{fmt.Errorf("plan is %d bytes, more than the %d allowed", len(data), MaxPlanBytes)}
	}
	var p Plan
	if trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return Plan{}, &DecodeError{fmt.Errorf("json: %w", err)}
		}
		if dec.More() {
			return Plan{}, &DecodeError{errors.New("json: more than one value")}
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return Plan{}, &DecodeError{errors.New("yaml: the plan is empty")}
			}
			var te *yaml.TypeError
			if errors.As(err, &te) {
				return Plan{}, &DecodeError{fmt.Errorf("yaml: %s", strings.Join(te.Errors, "; "))}
			}
			return Plan{}, &DecodeError{err} // yaml's errors name the line
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return Plan{}, &DecodeError{errors.New("yaml: more than one document; a plan file holds one")}
		}
	}
	p.normalize()
	if err := p.Validate(); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// DecodeError is input that is not a readable plan: too large, bad YAML or JSON syntax, an
// unknown field, a value of the wrong type. (A readable plan with bad values gives Errors.)
type DecodeError struct{ Err error }

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Load reads and parses the plan file at path.
func Load(path string) (Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Plan{}, fmt.Errorf("read plan: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// normalize fills in defaults and gives enum numbers one Go type (float64), so that a plan read
// from YAML and the same plan read from JSON are equal.
func (p *Plan) normalize() {
	if p.UnknownEvents == "" {
		p.UnknownEvents = Flag
	}
	if p.Events == nil {
		p.Events = []Event{}
	}
	normProps(p.Context)
	for i := range p.Events {
		e := &p.Events[i]
		if e.Type == "" {
			e.Type = "track"
		}
		if e.Status == "" {
			e.Status = Enabled
		}
		normProps(e.Properties)
		normProps(e.Traits)
	}
}

func normProps(m map[string]Property) {
	for name, pr := range m {
		normProp(&pr, 0)
		m[name] = pr
	}
}

// normProp normalizes one schema and, to MaxDepth levels (Validate refuses deeper ones), the
// schemas nested in it.
func normProp(pr *Property, depth int) {
	for i, v := range pr.Enum {
		switch n := v.(type) {
		case int:
			pr.Enum[i] = float64(n)
		case int64:
			pr.Enum[i] = float64(n)
		case uint64:
			pr.Enum[i] = float64(n)
		}
	}
	if depth >= MaxDepth {
		return
	}
	for name, sub := range pr.Properties {
		normProp(&sub, depth+1)
		pr.Properties[name] = sub
	}
	if pr.Items != nil {
		normProp(pr.Items, depth+1)
	}
}

// Canonical is the plan's canonical JSON: defaults filled in, map keys sorted. Two plans are the
// same plan when their canonical forms are equal.
func (p Plan) Canonical() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return b, nil
}

// Digest is the hex SHA-256 of the canonical form.
func (p Plan) Digest() (string, error) {
	b, err := p.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// YAML renders the plan as YAML.
func (p Plan) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode plan as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode plan as YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// key identifies an event in the plan: its type and name.
func (e Event) key() string { return e.Type + " " + e.Name }

// Label names the event for people: "track service_open", "page *", "identify".
func (e Event) Label() string {
	if e.Type == "identify" {
		return "identify"
	}
	return e.Type + " " + e.Name
}

// sortedNames returns the keys of m in order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
