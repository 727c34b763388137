package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/citypulse/citypulse/ingest/event"
)

// FuzzParse feeds plan files to the loader: it must not panic, and a plan it accepts must
// compile and survive a round trip through its canonical JSON unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"events":[{"name":"a","properties":{"p":{"type":"integer","enum":[1,2],"min":0}}}]}`))
	f.Add([]byte("events:\n  - name: a\n    properties:\n      p: {type: number, max: .nan}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte(`{"events":[{"name":"a","properties":{"o":{"type":"object","properties":{"l":{"type":"array","min_items":1,"items":{"type":"number","enum":[1,2.5]}}}}}}]}`))
	f.Add([]byte("context:\n  app: {type: object, properties: {v: {type: string, pattern: '^[0-9]'}}}\nevents:\n  - name: a\n    properties:\n      l: &l {type: array, max_items: 3, items: {type: object, properties: {x: *l}}}\n"))
	f.Add([]byte(deepPlan(MaxDepth)))
	f.Add([]byte(deepPlan(MaxDepth + 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := Compile(p); err != nil {
			t.Fatalf("parsed but does not compile: %v", err)
		}
		c1, err := p.Canonical()
		if err != nil {
			t.Fatalf("parsed but cannot be encoded: %v", err)
		}
		q, err := Parse(c1)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c1)
		}
		c2, err := q.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c1, c2) {
			t.Fatalf("round trip changed the plan:\n%s\n%s", c1, c2)
		}
	})
}

// FuzzCheck runs the example plan and the nested example plan on arbitrary events: no panic,
// and every rejection is a well-formed plan rejection whose field is a path into the event.
func FuzzCheck(f *testing.F) {
	checkers := []*Checker{testChecker(f), nestedChecker(f)}
	f.Add(uint8(0), "service_open", []byte(`{"service_id":1,"category":"其他"}`), []byte(`{"region_code":"510104017001"}`))
	f.Add(uint8(0), "search", []byte(`{"query":"\u793e\u4fdd","results":-1}`), []byte(` { "app" : { } } `))
	f.Add(uint8(1), "x", []byte(`{"path":"/a","title":"`+string(bytes.Repeat([]byte("长"), 201))+`"}`), []byte(`{}`))
	f.Add(uint8(2), "社保", []byte(`{"service_id":1e400}`), []byte(``))
	f.Add(uint8(3), "", []byte(`{"gender":"female","region_code":"51010401700"}`), []byte(`{"session_id":null}`))
	f.Add(uint8(0), "notice_click", []byte(`{"notice_id":"n0123abcd","channel":"push","position":"\""}`), []byte(`{"a":[{"}":"]"}]}`))
	f.Add(uint8(0), "search", []byte(`{"query":`), []byte(`[`))
	f.Add(uint8(0), "fee_payment", []byte(cart(`[`+item+`,{"fee_id":"fee-2","price":1e9}]`)), []byte(`{"app":{"name":"x"}}`))
	f.Add(uint8(0), "fee_payment", []byte(`{"cart":{"total":1,"items":[{"fee_id":"fee-1","price":1,"quantity":[]}]},"coupons":["a\u0062cd",null]}`), []byte(`{"app":{"name":null}}`))
	f.Add(uint8(0), "application_submit", []byte(`{"service_id":1,"form":{"form_id":"f-1","applicant":{"region_code":"510104017001"},"consents":[true]},"scores":[[1,2],[3,4,5],[]]}`), []byte(`{"app":{}}`))
	f.Add(uint8(0), "application_submit", []byte(`{"service_id":1,"form":{"form_id":"f-1"},"scores":[[1,2}]]}`), []byte(`{"app":[]}`))
	f.Add(uint8(0), "fee_payment", []byte(`{"cart":{"total":1,"items":[{"fee_id":"fee-1","price":1},]}}`), []byte(`{"app":{"name":"x","version":"1.0"}}`))
	rules := map[string]bool{RuleUnknownEvent: true, RuleDisabled: true, RuleAppNotEnabled: true, RuleRequired: true, RuleType: true, RuleEnum: true, RulePattern: true, RuleMin: true, RuleMax: true, RuleMinLength: true, RuleMaxLength: true, RuleMinItems: true, RuleMaxItems: true}
	types := []string{event.TypeTrack, event.TypePage, event.TypeScreen, event.TypeIdentify}
	f.Fuzz(func(t *testing.T, typ uint8, name string, props, ctx []byte) {
		e := &event.Event{Type: types[int(typ)%len(types)], Context: ctx}
		switch e.Type {
		case event.TypeTrack:
			e.Event, e.Properties = name, props
		case event.TypeIdentify:
			e.Traits = props
		default:
			e.Name, e.Properties = name, props
		}
		for _, c := range checkers {
			for _, source := range []string{"citypulse-app", "booking-service"} {
				rej, flags := c.Check(source, e)
				if rej == nil {
					continue
				}
				if flags != nil || rej.Code != event.CodePlan || !rules[rej.Rule] || rej.Reason == "" || !fieldPath.MatchString(rej.Field) {
					t.Fatalf("malformed verdict: %+v %v", rej, flags)
				}
			}
		}
	})
}

// fieldPath is the shape of a rejection's field: event-level, or a path into properties,
// traits or context of field names and element indexes.
var fieldPath = regexp.MustCompile(`^(|event|name|(properties|traits|context)(\.[^.\[]+|\[[0-9]+\])*)$`)

// FuzzElements checks the allocation-free array walker against encoding/json on valid arrays.
func FuzzElements(f *testing.F) {
	f.Add([]byte(`[1,"a\"]",{"b":[2,{}]},null, true ,[[]]]`))
	f.Add([]byte(` [ ] `))
	f.Add([]byte(`[1 2]`))
	f.Add([]byte(`[{"a":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []json.RawMessage
		var it elements
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil || want == nil {
			if it.start(data) == nil { // invalid input: any answer, no panic
				for {
					if _, ok, err := it.next(); !ok || err != nil {
						break
					}
				}
			}
			return
		}
		if err := it.start(data); err != nil {
			t.Fatalf("valid array refused: %v", err)
		}
		var got [][]byte
		for {
			v, ok, err := it.next()
			if err != nil {
				t.Fatalf("valid array refused: %v", err)
			}
			if !ok {
				break
			}
			got = append(got, v)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d elements, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d = %s, want %s", i, got[i], want[i])
			}
		}
	})
}

// FuzzMembers checks the allocation-free object walker against encoding/json on valid objects.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x\"y","c":{"d":[1,"]"]},"\u00e9":null}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`{"a" : true , "b":-1.5e3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil || want == nil {
			var it members // invalid input: any answer, no panic
			if it.start(data) == nil {
				for {
					if _, _, ok, err := it.next(); !ok || err != nil {
						break
					}
				}
			}
			return
		}
		got := map[string]json.RawMessage{}
		var it members
		if err := it.start(data); err != nil {
			t.Fatalf("valid object refused: %v", err)
		}
		for {
			k, v, ok, err := it.next()
			if err != nil {
				t.Fatalf("valid object refused: %v", err)
			}
			if !ok {
				break
			}
			key, ok := unquote(k)
			if !ok {
				t.Fatalf("key %s does not unquote", k)
			}
			got[string(key)] = v
		}
		if len(got) != len(want) {
			t.Fatalf("got %d members, want %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
				t.Fatalf("member %q = %s, want %s", k, got[k], v)
			}
		}
	})
}
