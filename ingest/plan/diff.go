package plan

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Change is one difference between two plans.
type Change struct {
	Op   string `json:"op"`   // "+" added, "-" removed, "~" changed
	What string `json:"what"` // e.g. "track search properties.query", "unknown_events"
	// Detail says what changed ("max_length 50 → 100") or, for an addition, what was added.
	Detail string `json:"detail,omitempty"`
}

func (c Change) String() string {
	if c.Detail == "" {
		return c.Op + " " + c.What
	}
	return c.Op + " " + c.What + ": " + c.Detail
}

// Diff lists what changed from old to new: plan settings, apps, context fields, events and their
// properties, in the new plan's order (removals after). Both plans are taken with defaults
// filled in; a zero old Plan means "no plan before".
func Diff(old, new Plan) []Change {
	old.normalize()
	new.normalize()
	var out []Change
	changed := func(what, from, to string) {
		if from != to {
			out = append(out, Change{Op: "~", What: what, Detail: shown(from) + " → " + shown(to)})
		}
	}
	changed("description", old.Description, new.Description)
	changed("owners", strings.Join(old.Owners, ", "), strings.Join(new.Owners, ", "))
	changed("unknown_events", old.UnknownEvents, new.UnknownEvents)
	for _, name := range sortedNames(new.Apps) {
		a, had := old.Apps[name]
		if !had {
			out = append(out, Change{Op: "+", What: "apps." + name, Detail: appDetail(new.Apps[name])})
			continue
		}
		changed("apps."+name+".unknown_events", a.UnknownEvents, new.Apps[name].UnknownEvents)
		changed("apps."+name+".description", a.Description, new.Apps[name].Description)
	}
	for _, name := range sortedNames(old.Apps) {
		if _, has := new.Apps[name]; !has {
			out = append(out, Change{Op: "-", What: "apps." + name})
		}
	}
	out = append(out, diffProps("context", old.Context, new.Context, 0)...)

	oldEvents := map[string]Event{}
	for _, e := range old.Events {
		oldEvents[e.key()] = e
	}
	newKeys := map[string]bool{}
	for _, e := range new.Events {
		newKeys[e.key()] = true
		o, had := oldEvents[e.key()]
		if !had {
			out = append(out, Change{Op: "+", What: e.Label(), Detail: eventDetail(e)})
			continue
		}
		l := e.Label()
		changed(l+" description", o.Description, e.Description)
		changed(l+" owner", o.Owner, e.Owner)
		changed(l+" apps", strings.Join(o.Apps, ", "), strings.Join(e.Apps, ", "))
		changed(l+" status", o.Status, e.Status)
		out = append(out, diffProps(l+" properties", o.Properties, e.Properties, 0)...)
		out = append(out, diffProps(l+" traits", o.Traits, e.Traits, 0)...)
	}
	for _, e := range old.Events {
		if !newKeys[e.key()] {
			out = append(out, Change{Op: "-", What: e.Label()})
		}
	}
	return out
}

// diffProps lists the changes between two sets of field schemas depth levels below the top
// (0 for properties, traits, context), then, for each field in
// both, the changes nested in it (its fields' schemas, its items' schema) under its path:
// "track pay properties.cart.properties.items.items.properties.price: max 100 → 200".
func diffProps(prefix string, old, new map[string]Property, depth int) []Change {
	var out []Change
	for _, name := range sortedNames(new) {
		what := prefix + member(name)
		o, had := old[name]
		if !had {
			out = append(out, Change{Op: "+", What: what, Detail: propDetail(new[name])})
			continue
		}
		out = diffProp(out, what, o, new[name], depth)
	}
	for _, name := range sortedNames(old) {
		if _, has := new[name]; !has {
			out = append(out, Change{Op: "-", What: prefix + member(name)})
		}
	}
	return out
}

// diffProp appends the changes from schema o to n, both at path what, depth levels below a
// top-level field; plans deeper than MaxDepth do not validate, and their excess is not compared.
func diffProp(out []Change, what string, o, n Property, depth int) []Change {
	oa, na := attrs(o), attrs(n)
	var parts []string
	for _, k := range attrNames {
		if oa[k] != na[k] {
			parts = append(parts, k+" "+shown(oa[k])+" → "+shown(na[k]))
		}
	}
	if len(parts) > 0 {
		out = append(out, Change{Op: "~", What: what, Detail: strings.Join(parts, ", ")})
	}
	if depth >= MaxDepth {
		return out
	}
	out = append(out, diffProps(what+".properties", o.Properties, n.Properties, depth+1)...)
	switch {
	case o.Items == nil && n.Items != nil:
		out = append(out, Change{Op: "+", What: what + ".items", Detail: propDetail(*n.Items)})
	case o.Items != nil && n.Items == nil:
		out = append(out, Change{Op: "-", What: what + ".items"})
	case o.Items != nil:
		out = diffProp(out, what+".items", *o.Items, *n.Items, depth+1)
	}
	return out
}

var attrNames = []string{"type", "required", "enum", "pattern", "min", "max", "min_length", "max_length", "min_items", "max_items", "description"}

// detailAttrs are the attributes propDetail lists after the type and required.
var detailAttrs = []string{"enum", "pattern", "min", "max", "min_length", "max_length", "min_items", "max_items"}

// attrs renders each attribute of a property as text ("" when unset).
func attrs(p Property) map[string]string {
	m := map[string]string{"type": p.Type, "pattern": p.Pattern, "description": p.Description}
	if p.Required {
		m["required"] = "true"
	}
	if p.Enum != nil {
		vals := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			vals[i] = show(v)
		}
		m["enum"] = "[" + strings.Join(vals, ", ") + "]"
	}
	if p.Min != nil {
		m["min"] = num(*p.Min)
	}
	if p.Max != nil {
		m["max"] = num(*p.Max)
	}
	if p.MinLength != nil {
		m["min_length"] = strconv.Itoa(*p.MinLength)
	}
	if p.MaxLength != nil {
		m["max_length"] = strconv.Itoa(*p.MaxLength)
	}
	if p.MinItems != nil {
		m["min_items"] = strconv.Itoa(*p.MinItems)
	}
	if p.MaxItems != nil {
		m["max_items"] = strconv.Itoa(*p.MaxItems)
	}
	return m
}

// propDetail summarises a property: "integer, required, min 1"; "object, required, properties
// items, total"; "array, max_items 50, items object".
func propDetail(p Property) string {
	a := attrs(p)
	parts := []string{p.Type}
	if p.Required {
		parts = append(parts, "required")
	}
	for _, k := range detailAttrs {
		if a[k] != "" {
			parts = append(parts, k+" "+a[k])
		}
	}
	if len(p.Properties) > 0 {
		parts = append(parts, "properties "+strings.Join(sortedNames(p.Properties), ", "))
	}
	if p.Items != nil {
		parts = append(parts, "items "+p.Items.Type)
	}
	return strings.Join(parts, ", ")
}

func eventDetail(e Event) string {
	fields := e.Properties
	what := "properties"
	if e.Type == "identify" {
		fields, what = e.Traits, "traits"
	}
	req := 0
	for _, p := range fields {
		if p.Required {
			req++
		}
	}
	s := fmt.Sprintf("%d %s (%d required)", len(fields), what, req)
	if e.Status == Disabled {
		s += ", disabled"
	}
	if len(e.Apps) > 0 {
		s += ", apps " + strings.Join(e.Apps, ", ")
	}
	return s
}

func appDetail(a App) string {
	if a.UnknownEvents == "" {
		return "unknown events as the plan"
	}
	return "unknown events " + a.UnknownEvents
}

func shown(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// WriteChanges writes one change a line, or "no changes".
func WriteChanges(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	for _, c := range changes {
		if _, err := fmt.Fprintln(w, "  "+c.String()); err != nil {
			return err
		}
	}
	return nil
}

// WriteSummary describes a stored version for people: version, who applied it and when, the
// policies, then one line per event.
func WriteSummary(w io.Writer, r Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tracking plan version %d, applied %s by %s (sha256 %.12s)\n", r.Version, r.AppliedAt.Format(time.RFC3339), r.AppliedBy, r.SHA256)
	p := r.Plan
	if p.Description != "" {
		fmt.Fprintf(&b, "%s\n", strings.TrimSpace(p.Description))
	}
	if len(p.Owners) > 0 {
		fmt.Fprintf(&b, "owners: %s\n", strings.Join(p.Owners, ", "))
	}
	fmt.Fprintf(&b, "unknown events: %s", p.UnknownEvents)
	for _, name := range sortedNames(p.Apps) {
		if u := p.Apps[name].UnknownEvents; u != "" {
			fmt.Fprintf(&b, "; %s from %s", u, name)
		}
	}
	b.WriteString("\n")
	if len(p.Context) > 0 {
		fmt.Fprintf(&b, "context fields: %s\n", strings.Join(sortedNames(p.Context), ", "))
	}
	fmt.Fprintf(&b, "%d events:\n", len(p.Events))
	events := slices.Clone(p.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return strings.Compare(a.key(), b.key()) })
	for _, e := range events {
		fmt.Fprintf(&b, "  %-32s %s", e.Label(), eventDetail(e))
		if e.Owner != "" {
			fmt.Fprintf(&b, ", owner %s", e.Owner)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
