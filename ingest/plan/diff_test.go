package plan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func TestDiff(t *testing.T) {
	old := mustParse(t, `
unknown_events: flag
apps: {a: {unknown_events: reject}}
events:
  - name: search
    properties:
      query: {type: string, required: true, max_length: 50}
      results: {type: integer}
  - name: gone
  - type: identify
    traits:
      gender: {type: string, enum: [female, male]}
`)
	new := mustParse(t, `
unknown_events: reject
owners: [team]
apps: {b: {}}
context:
  region_code: {type: string, pattern: '^[0-9]{12}$'}
events:
  - name: search
    status: disabled
    properties:
      query: {type: string, required: true, max_length: 100}
      page: {type: integer, min: 1}
  - name: added
    apps: [a]
    properties:
      x: {type: boolean, required: true}
  - type: identify
    traits:
      gender: {type: string, enum: [female, male, unknown]}
`)
	var got []string
	for _, c := range Diff(old, new) {
		got = append(got, c.String())
	}
	want := []string{
		"~ owners: (none) → team",
		"~ unknown_events: flag → reject",
		"+ apps.b: unknown events as the plan",
		"- apps.a",
		"+ context.region_code: string, pattern ^[0-9]{12}$",
		"~ track search status: enabled → disabled",
		"+ track search properties.page: integer, min 1",
		"~ track search properties.query: max_length 50 → 100",
		"- track search properties.results",
		"+ track added: 1 properties (1 required), apps a",
		`~ identify traits.gender: enum ["female", "male"] → ["female", "male", "unknown"]`,
		"- track gone",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Diff(old, old); len(d) != 0 {
		t.Fatalf("a plan differs from itself: %v", d)
	}
}

// TestCLI runs what `citypulse plan apply` and `citypulse plan show` do.
func TestCLI(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, metastoretest.SQLite(t))
	res, err := ApplyFile(ctx, s, "testdata/plan.yaml", "alice")
	if err != nil || res.Version != 1 || !res.Changed || res.Previous != 0 || len(res.Changes) != 20 {
		t.Fatalf("ApplyFile = %+v, %v", res, err)
	}
	var out bytes.Buffer
	if err := WriteApplyResult(&out, res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "applied tracking plan version 1 (first version):\n  ~ description: (none) → Events of the 市民云") {
		t.Fatalf("apply output:\n%s", out.String())
	}
	res, err = ApplyFile(ctx, s, "testdata/plan.yaml", "alice")
	out.Reset()
	_ = WriteApplyResult(&out, res)
	if err != nil || res.Changed || out.String() != "unchanged: version 1 is the same plan\n" {
		t.Fatalf("second ApplyFile = %+v, %v: %s", res, err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("events: [{name: a, type: click}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyFile(ctx, s, bad, "alice"); err == nil || err.Error() != "plan "+bad+`: events[0].type: unknown type "click": want track, page, screen or identify` {
		t.Fatalf("bad file: %v", err)
	}

	out.Reset()
	if err := Show(ctx, s, &out, 0, FormatText); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"tracking plan version 1, applied " + time.Now().UTC().Format("2006-01-02"),
		"by alice",
		"unknown events: flag; reject from booking-service\n",
		"context fields: app, region_code, session_id\n",
		"10 events:\n",
		"  identify                         4 traits (1 required), owner data-platform@citypulse.example\n",
		"  track banner_click               0 properties (0 required), disabled, owner app-team@citypulse.example\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := Show(ctx, s, &out, 1, FormatYAML); err != nil {
		t.Fatal(err)
	}
	if p, err := Parse(out.Bytes()); err != nil || len(p.Events) != 10 {
		t.Fatalf("show -format yaml does not parse back: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := Show(ctx, s, &out, 1, FormatJSON); err != nil || !strings.Contains(out.String(), `"version": 1`) {
		t.Fatalf("show -format json: %v\n%s", err, out.String())
	}
	if err := Show(ctx, s, &out, 5, FormatText); err == nil {
		t.Fatal("show of a missing version succeeded")
	}
}
