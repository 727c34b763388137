package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadTestPlan(t testing.TB) Plan {
	t.Helper()
	p, err := Load("testdata/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadExample(t *testing.T) {
	p := loadTestPlan(t)
	if len(p.Events) != 10 || p.UnknownEvents != Flag || p.Apps["booking-service"].UnknownEvents != Reject {
		t.Fatalf("unexpected plan: %d events, unknown %q", len(p.Events), p.UnknownEvents)
	}
	if got := p.Events[1].Properties["category"]; len(got.Enum) != 13 || !got.Required {
		t.Fatalf("the YAML anchor was not followed: %+v", got)
	}
	if p.Events[7].Type != "page" || p.Events[0].Type != "track" || p.Events[0].Status != Enabled {
		t.Fatalf("defaults not applied: %+v %+v", p.Events[0], p.Events[7])
	}
	if _, err := Compile(p); err != nil {
		t.Fatal(err)
	}
}

// TestFormatsAgree reads the example as YAML, then its canonical JSON and its YAML rendering back:
// all three must be the same plan.
func TestFormatsAgree(t *testing.T) {
	p := loadTestPlan(t)
	canon, err := p.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := Parse(canon)
	if err != nil {
		t.Fatalf("parse canonical JSON: %v", err)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := Parse(y)
	if err != nil {
		t.Fatalf("parse rendered YAML: %v\n%s", err, y)
	}
	for name, q := range map[string]Plan{"json": fromJSON, "yaml": fromYAML} {
		c, err := q.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c, canon) {
			t.Errorf("%s round trip differs:\n%s\nwant\n%s", name, c, canon)
		}
	}
}

// TestBadPlans parses every testdata/*.bad.yaml. Each file's first line is "# want: MESSAGE",
// the one error the file must give, in full.
func TestBadPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad plans: %v", err)
	}
	seen := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line must be '# want: MESSAGE', not %q", first)
			}
			if other, dup := seen[want]; dup {
				t.Fatalf("same message as %s: one file per message", other)
			}
			seen[want] = f
			_, err = Parse(data)
			if err == nil {
				t.Fatalf("parsed without error; want %q", want)
			}
			if err.Error() != want {
				t.Fatalf("error:\n  %s\nwant:\n  %s", err, want)
			}
		})
	}
}

func TestSeveralErrors(t *testing.T) {
	_, err := Parse([]byte("unknown_events: maybe\nevents:\n  - name: a\n    status: off\n  - type: identify\n    name: x\n"))
	es, ok := err.(Errors)
	if !ok || len(es) != 3 {
		t.Fatalf("err = %v (%T), want 3 Errors", err, err)
	}
	want := []string{"unknown_events", "events[0].status", "events[1].name"}
	for i, e := range es {
		if e.Path != want[i] {
			t.Errorf("error %d at %s, want %s", i, e.Path, want[i])
		}
	}
}

// TestDocsShowExample keeps docs/tracking-plan.md's examples the same as testdata/plan.yaml
// (the full example) and testdata/nested.yaml (nested objects and arrays).
func TestDocsShowExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/tracking-plan.md")
	if err != nil {
		t.Fatal(err)
	}
	for file, section := range map[string]string{"testdata/plan.yaml": "Full example", "testdata/nested.yaml": "Nested objects and arrays"} {
		example, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, example) {
			t.Errorf("docs/tracking-plan.md does not contain %s verbatim: copy it into the %s section", file, section)
		}
	}
}
