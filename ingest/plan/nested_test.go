package plan

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"go.yaml.in/yaml/v3"
)

func nestedChecker(t testing.TB) *Checker {
	t.Helper()
	p, err := Load("testdata/nested.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cart is a valid fee_payment cart with its items replaced by items (a JSON array).
func cart(items string) string {
	return `{"cart":{"currency":"CNY","total":30.5,"items":` + items + `}}`
}

const item = `{"fee_id":"fee-1","price":10,"quantity":1}`

// TestCheckNested covers every rule inside objects and arrays and the wording of the paths.
func TestCheckNested(t *testing.T) {
	c := nestedChecker(t)
	items3 := func(third string) string { return cart("[" + item + "," + item + "," + third + "]") }
	for _, tc := range []struct {
		name   string
		ev     *event.Event
		field  string // "" with rule "": passes
		rule   string
		reason string // a part of the reason
	}{
		{name: "valid", ev: track("fee_payment", items3(item))},
		{name: "valid with spaces and extra fields", ev: track("fee_payment", ` { "cart" : { "total" : 1 , "x" : [ {"}":"]"} ] , "items" : [ { "fee_id" : "fee-9" , "price" : 0 , "extra" : {} } ] } , "coupons" : [ ] } `)},
		{name: "nested null is absent", ev: track("fee_payment", `{"cart":{"currency":null,"total":1,"items":[{"fee_id":"fee-1","price":1,"quantity":null}]}}`)},
		{name: "nested escaped key", ev: track("fee_payment", `{"cart":{"\u0074otal":1,"items":[{"fee_id":"fee-1","price":1}]}}`)},
		{name: "object is not an object", ev: track("fee_payment", `{"cart":"x"}`), field: "properties.cart", rule: RuleType, reason: "must be an object, not a string"},
		{name: "nested object is broken", ev: track("fee_payment", `{"cart":{"total":1,}}`), field: "properties.cart", rule: RuleType, reason: "must be a JSON object"},
		{name: "nested required", ev: track("fee_payment", `{"cart":{"items":[`+item+`]}}`), field: "properties.cart.total", rule: RuleRequired, reason: "required by the tracking plan for track fee_payment: a number"},
		{name: "nested required array", ev: track("fee_payment", `{"cart":{"total":1}}`), field: "properties.cart.items", rule: RuleRequired, reason: "a array"},
		{name: "nested type", ev: track("fee_payment", `{"cart":{"total":"1","items":[]}}`), field: "properties.cart.total", rule: RuleType, reason: "must be a number, not a string"},
		{name: "nested enum", ev: track("fee_payment", `{"cart":{"currency":"USD","total":1,"items":[]}}`), field: "properties.cart.currency", rule: RuleEnum, reason: `"USD" is not one of "CNY"`},
		{name: "nested min", ev: track("fee_payment", `{"cart":{"total":-1,"items":[]}}`), field: "properties.cart.total", rule: RuleMin, reason: "-1 is less than the minimum 0"},
		{name: "array element max", ev: track("fee_payment", items3(`{"fee_id":"fee-3","price":100001}`)), field: "properties.cart.items[2].price", rule: RuleMax, reason: "100001 is more than the maximum 100000"},
		{name: "array element pattern", ev: track("fee_payment", cart(`[{"fee_id":"f-1","price":1}]`)), field: "properties.cart.items[0].fee_id", rule: RulePattern, reason: `"f-1" does not match the pattern ^fee-[0-9]+$`},
		{name: "array element required", ev: track("fee_payment", items3(`{"fee_id":"fee-3"}`)), field: "properties.cart.items[2].price", rule: RuleRequired, reason: "for track fee_payment: a number"},
		{name: "array element integer", ev: track("fee_payment", cart(`[{"fee_id":"fee-1","price":1,"quantity":1.5}]`)), field: "properties.cart.items[0].quantity", rule: RuleType, reason: "must be an integer, not 1.5"},
		{name: "array element not an object", ev: track("fee_payment", cart(`[`+item+`,"fee-2"]`)), field: "properties.cart.items[1]", rule: RuleType, reason: "must be an object, not a string"},
		{name: "null array element", ev: track("fee_payment", cart(`[null]`)), field: "properties.cart.items[0]", rule: RuleType, reason: "must be an object, not null"},
		{name: "array is not an array", ev: track("fee_payment", cart(`{"0":{}}`)), field: "properties.cart.items", rule: RuleType, reason: "must be an array, not an object"},
		{name: "array is broken", ev: track("fee_payment", cart(`[1 2]`)), field: "properties.cart.items", rule: RuleType, reason: "must be a JSON array"},
		{name: "array bracket mismatch", ev: track("fee_payment", cart(`[`+item+`}`)), field: "properties.cart.items", rule: RuleType, reason: "must be a JSON array"},
		{name: "min_items", ev: track("fee_payment", cart(`[]`)), field: "properties.cart.items", rule: RuleMinItems, reason: "has 0 items, fewer than the minimum 1"},
		{name: "max_items", ev: track("fee_payment", `{"cart":{"total":1,"items":[`+item+`]},"coupons":["aaaa","bbbb","cccc","dddd","eeee","ffff"]}`), field: "properties.coupons", rule: RuleMaxItems, reason: "has 6 items, more than the maximum 5"},
		{name: "elements past max_items are not checked", ev: track("fee_payment", `{"cart":{"total":1,"items":[`+item+`]},"coupons":["aaaa","bbbb","cccc","dddd","eeee",1]}`), field: "properties.coupons", rule: RuleMaxItems},
		{name: "string element min_length", ev: track("fee_payment", `{"cart":{"total":1,"items":[`+item+`]},"coupons":["abcd","ab"]}`), field: "properties.coupons[1]", rule: RuleMinLength, reason: "is 2 characters, fewer than the minimum 4"},
		{name: "string element max_length", ev: track("fee_payment", `{"cart":{"total":1,"items":[`+item+`]},"coupons":["`+strings.Repeat("券", 17)+`"]}`), field: "properties.coupons[0]", rule: RuleMaxLength},
		{name: "string element type", ev: track("fee_payment", `{"cart":{"total":1,"items":[`+item+`]},"coupons":[4444]}`), field: "properties.coupons[0]", rule: RuleType, reason: "must be a string, not a number"},
		{name: "two levels of objects", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1","applicant":{"region_code":"5101"}}}`), field: "properties.form.applicant.region_code", rule: RulePattern},
		{name: "deep required", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1","applicant":{"age_group":"25-34"}}}`), field: "properties.form.applicant.region_code", rule: RuleRequired},
		{name: "boolean element enum", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1","consents":[true,false]}}`), field: "properties.form.consents[1]", rule: RuleEnum, reason: "false is not one of true"},
		{name: "array of arrays", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1"},"scores":[[1,2],[3,4,6]]}`), field: "properties.scores[1][2]", rule: RuleMax, reason: "6 is more than the maximum 5"},
		{name: "inner max_items", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1"},"scores":[[1,2,3,4]]}`), field: "properties.scores[0]", rule: RuleMaxItems},
		{name: "array of arrays valid", ev: track("application_submit", `{"service_id":1,"form":{"form_id":"f-1","consents":[true]},"scores":[[],[5,5,5]]}`)},
		{name: "nested context", ev: &event.Event{Type: event.TypeTrack, Event: "other", Context: json.RawMessage(`{"app":{"version":"1.2"}}`)}, field: "context.app.name", rule: RuleRequired, reason: "for every event: a string"},
		{name: "nested context valid", ev: &event.Event{Type: event.TypeTrack, Event: "other", Context: json.RawMessage(`{"app":{"name":"市民云","version":"3.1.0"}}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rej, _ := c.Check("citypulse-app", tc.ev)
			if tc.rule == "" {
				if rej != nil {
					t.Fatalf("rejected: %+v", rej)
				}
				return
			}
			if rej == nil {
				t.Fatalf("passed; want %s on %s", tc.rule, tc.field)
			}
			if rej.Code != event.CodePlan || rej.Rule != tc.rule || rej.Field != tc.field || rej.Event != tc.ev.Event {
				t.Fatalf("got %+v; want rule %s on %s", rej, tc.rule, tc.field)
			}
			if !strings.Contains(rej.Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", rej.Reason, tc.reason)
			}
		})
	}
}

// deepPlan is a plan whose property p nests objects levels deep: p.properties.a.properties.a….
func deepPlan(levels int) string {
	var b strings.Builder
	b.WriteString(`{"events":[{"name":"e","properties":{"p":`)
	for range levels {
		b.WriteString(`{"type":"object","properties":{"a":`)
	}
	b.WriteString(`{"type":"integer","max":1}`)
	b.WriteString(strings.Repeat("}}", levels))
	b.WriteString(`}}]}`)
	return b.String()
}

// TestNestedPlanErrors: every error in a nested schema names its path, whether the plan comes
// through Parse (the file, the API) or goes straight to Compile (code).
func TestNestedPlanErrors(t *testing.T) {
	const head = "events:\n  - name: e\n    properties:\n"
	tooDeep := "events[0].properties.p" + strings.Repeat(".properties.a", MaxDepth+1) +
		": nested more than 8 levels deep (each properties or items step is a level)"
	for _, tc := range []struct {
		name, plan, want string
	}{
		{"items type required", head + "      cart: {type: array, items: {min: 1}}\n",
			"events[0].properties.cart.items.type: required: string, integer, number, boolean, object or array"},
		{"nested type unknown", head + "      cart: {type: object, properties: {items: {type: array, items: {type: float}}}}\n",
			`events[0].properties.cart.properties.items.items.type: unknown type "float": want string, integer, number, boolean, object or array`},
		{"items on an object", head + "      cart: {type: object, items: {type: string}}\n",
			"events[0].properties.cart.items: only for array properties"},
		{"properties on an array", head + "      cart: {type: array, properties: {a: {type: string}}}\n",
			"events[0].properties.cart.properties: only for object properties; an array's elements are described by items"},
		{"min_items on a string", head + "      s: {type: string, min_items: 1}\n",
			"events[0].properties.s.min_items: only for array properties"},
		{"max_items negative", head + "      a: {type: array, max_items: -1}\n",
			"events[0].properties.a.max_items: must not be negative"},
		{"max_items below min_items", head + "      a: {type: array, items: {type: string}, min_items: 3, max_items: 2}\n",
			"events[0].properties.a.max_items: 2 is less than min_items 3"},
		{"required items", head + "      a: {type: array, items: {type: string, required: true}}\n",
			"events[0].properties.a.items.required: not allowed on items: every element is checked and a null element fails the type rule; use min_items"},
		{"nested pattern", head + "      o: {type: object, properties: {id: {type: string, pattern: '[0-9'}}}\n",
			"events[0].properties.o.properties.id.pattern: invalid Go regular expression: error parsing regexp: missing closing ]: `[0-9`"},
		{"nested enum", head + "      a: {type: array, items: {type: integer, enum: [1, 2.5]}}\n",
			"events[0].properties.a.items.enum[1]: 2.5 is not a valid integer"},
		{"nested min not numeric", head + "      o: {type: object, properties: {s: {type: string, min: 1}}}\n",
			"events[0].properties.o.properties.s.min: only for number and integer properties"},
		{"nested max below min", head + "      a: {type: array, items: {type: object, properties: {price: {type: number, min: 5, max: 1}}}}\n",
			"events[0].properties.a.items.properties.price.max: 1 is less than min 5"},
		{"nested min_length", head + "      o: {type: object, properties: {s: {type: string, min_length: -1}}}\n",
			"events[0].properties.o.properties.s.min_length: must not be negative"},
		{"nested property name", head + "      o: {type: object, properties: {'': {type: string}}}\n",
			`events[0].properties.o.properties[""]: the property name must not be empty`},
		{"nested enum on object", "context:\n  app: {type: object, properties: {os: {type: object, enum: [x]}}}\nevents: []\n",
			"context.app.properties.os.enum: not allowed for object properties"},
		{"traits", "events:\n  - type: identify\n    traits:\n      address: {type: object, properties: {street: {type: integr}}}\n",
			`events[0].traits.address.properties.street.type: unknown type "integr": want string, integer, number, boolean, object or array`},
		{"too deep", deepPlan(MaxDepth + 1), tooDeep},
		{"several", head + "      a: {type: array, items: {type: array, items: {type: object, properties: {x: {type: string, max: 1}}}, min_items: -1}}\n" +
			"      b: {type: object, properties: {c: {type: array, max_items: 1, min_items: 2}}}\n",
			"events[0].properties.a.items.min_items: must not be negative\n" +
				"events[0].properties.a.items.items.properties.x.max: only for number and integer properties\n" +
				"events[0].properties.b.properties.c.max_items: 1 is less than min_items 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.plan)); err == nil || err.Error() != tc.want {
				t.Fatalf("Parse error:\n  %v\nwant:\n  %s", err, tc.want)
			}
			var p Plan
			if err := decodeUnchecked([]byte(tc.plan), &p); err != nil {
				t.Fatal(err)
			}
			if _, err := Compile(p); err == nil || err.Error() != tc.want {
				t.Fatalf("Compile error:\n  %v\nwant:\n  %s", err, tc.want)
			}
		})
	}
	// Exactly MaxDepth levels is fine, and checked to the bottom.
	p, err := Parse([]byte(deepPlan(MaxDepth)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat(`{"a":`, MaxDepth) + "2" + strings.Repeat("}", MaxDepth)
	rej, _ := c.Check("a", track("e", `{"p":`+deep+`}`))
	if want := "properties.p" + strings.Repeat(".a", MaxDepth); rej == nil || rej.Field != want || rej.Rule != RuleMax {
		t.Fatalf("got %+v, want max on %s", rej, want)
	}
}

// decodeUnchecked decodes a plan as Parse does, without defaults or validation.
func decodeUnchecked(data []byte, p *Plan) error {
	if strings.HasPrefix(string(data), "{") {
		return json.Unmarshal(data, p)
	}
	return yaml.Unmarshal(data, p)
}

func TestNestedFormatsAgree(t *testing.T) {
	p, err := Load("testdata/nested.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Events[0].Properties["cart"].Properties["items"].Items.Properties["price"]; got.Type != TypeNumber || *got.Max != 100000 {
		t.Fatalf("nested schema not read: %+v", got)
	}
	canon, err := p.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"json": canon, "yaml": y} {
		q, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, _ := q.Canonical()
		if string(c) != string(canon) {
			t.Errorf("%s round trip differs:\n%s\nwant\n%s", name, c, canon)
		}
	}
	// Enum numbers nested anywhere get one Go type, so YAML and JSON give the same digest.
	for _, pair := range [][2]string{
		{"events: [{name: e, properties: {a: {type: array, items: {type: array, items: {type: integer, enum: [1, 2]}}}}}]\n",
			`{"events":[{"name":"e","properties":{"a":{"type":"array","items":{"type":"array","items":{"type":"integer","enum":[1,2]}}}}}]}`},
	} {
		a, b := mustParse(t, pair[0]), mustParse(t, pair[1])
		da, _ := a.Digest()
		db, _ := b.Digest()
		if da != db {
			t.Errorf("digests differ for %s", pair[0])
		}
	}
}

func TestDiffNested(t *testing.T) {
	old := mustParse(t, `
events:
  - name: pay
    properties:
      cart:
        type: object
        properties:
          total: {type: number, max: 100}
          note: {type: string}
          items:
            type: array
            items:
              type: object
              properties:
                price: {type: number, max: 100}
      tags: {type: array, items: {type: string}}
      meta: {type: object}
`)
	new := mustParse(t, `
events:
  - name: pay
    properties:
      cart:
        type: object
        properties:
          total: {type: number, max: 200}
          currency: {type: string, enum: [CNY]}
          items:
            type: array
            max_items: 50
            items:
              type: object
              properties:
                price: {type: number, max: 100, required: true}
                sku: {type: string, required: true}
      tags: {type: array}
      meta: {type: object, properties: {source: {type: string}}}
      lines: {type: array, items: {type: object, properties: {n: {type: integer}}}, max_items: 9}
`)
	var got []string
	for _, c := range Diff(old, new) {
		got = append(got, c.String())
	}
	want := []string{
		"+ track pay properties.cart.properties.currency: string, enum [\"CNY\"]",
		"~ track pay properties.cart.properties.items: max_items (none) → 50",
		"~ track pay properties.cart.properties.items.items.properties.price: required (none) → true",
		"+ track pay properties.cart.properties.items.items.properties.sku: string, required",
		"~ track pay properties.cart.properties.total: max 100 → 200",
		"- track pay properties.cart.properties.note",
		"+ track pay properties.lines: array, max_items 9, items object",
		"+ track pay properties.meta.properties.source: string",
		"- track pay properties.tags.items",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Diff(new, new); len(d) != 0 {
		t.Fatalf("a plan differs from itself: %v", d)
	}
}

// TestStoreNested: a nested plan goes through the store unchanged, on SQLite and PostgreSQL,
// and the version read back enforces the nested rules.
func TestStoreNested(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		ctx := context.Background()
		s := newTestStore(t, ms)
		p, err := Load("testdata/nested.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if v, changed, err := s.Apply(ctx, p, ApplyOptions{By: "alice"}); err != nil || v != 1 || !changed {
			t.Fatalf("Apply = %d %v %v", v, changed, err)
		}
		rec, err := s.Active(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := p.Canonical()
		got, _ := rec.Plan.Canonical()
		if string(got) != string(want) {
			t.Fatalf("stored plan differs:\n%s\nwant\n%s", got, want)
		}
		if d, _ := p.Digest(); d != rec.SHA256 {
			t.Fatalf("digest %s, stored %s", d, rec.SHA256)
		}
		c, err := rec.Compile()
		if err != nil {
			t.Fatal(err)
		}
		rej, _ := c.Check("a", track("fee_payment", cart(`[`+item+`,{"fee_id":"fee-2","price":-1}]`)))
		if rej == nil || rej.Field != "properties.cart.items[1].price" || rej.Rule != RuleMin || !strings.Contains(rej.Reason, "-1 is less than the minimum 0") {
			t.Fatalf("stored nested plan: %+v", rej)
		}
		// A nested change is a new version whose diff names the nested path.
		p2, _ := Load("testdata/nested.yaml")
		price := p2.Events[0].Properties["cart"].Properties["items"].Items.Properties["price"]
		price.Max = new(float64)
		*price.Max = 5000
		p2.Events[0].Properties["cart"].Properties["items"].Items.Properties["price"] = price
		v, changed, _, _, err := s.apply(ctx, p2, ApplyOptions{})
		if err != nil || v != 2 || !changed {
			t.Fatalf("apply nested change = %d %v %v", v, changed, err)
		}
		rec1, err := s.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		changes := Diff(rec1.Plan, p2)
		if len(changes) != 1 || changes[0].String() != "~ track fee_payment properties.cart.properties.items.items.properties.price: max 100000 → 5000" {
			t.Fatalf("changes %v", changes)
		}
	})
}
