package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ApplyResult is what an apply did.
type ApplyResult struct {
	Version  int      `json:"version"`  // the active version after the apply
	Changed  bool     `json:"changed"`  // false: the plan equals the active version; nothing stored
	Previous int      `json:"previous"` // the version active before (0: none)
	Changes  []Change `json:"changes"`  // from the previous version to this one
}

// ApplyBytes parses a plan (YAML, or JSON when it starts with '{') and applies it, recording by
// as who applied it and data as its source. A bad plan gives Errors naming every bad field.
func ApplyBytes(ctx context.Context, s *Store, data []byte, by string) (ApplyResult, error) {
	p, err := Parse(data)
	if err != nil {
		return ApplyResult{}, err
	}
	res := ApplyResult{Changes: []Change{}}
	var prev Plan
	res.Version, res.Changed, res.Previous, prev, err = s.apply(ctx, p, ApplyOptions{By: by, Source: data})
	if err != nil {
		return ApplyResult{}, err
	}
	if res.Changed {
		res.Changes = Diff(prev, p)
	}
	return res, nil
}

// ApplyFile applies the plan file at path: the core of `citypulse plan apply FILE`.
func ApplyFile(ctx context.Context, s *Store, path, by string) (ApplyResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("read plan: %w", err)
	}
	res, err := ApplyBytes(ctx, s, data, by)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("plan %s: %w", path, err)
	}
	return res, nil
}

// WriteApplyResult reports an apply for people: "applied version 4 (was 3):" and the changes,
// or "unchanged: version 3 is the same plan".
func WriteApplyResult(w io.Writer, r ApplyResult) error {
	if !r.Changed {
		_, err := fmt.Fprintf(w, "unchanged: version %d is the same plan\n", r.Version)
		return err
	}
	was := "first version"
	if r.Previous > 0 {
		was = fmt.Sprintf("was %d", r.Previous)
	}
	if _, err := fmt.Fprintf(w, "applied tracking plan version %d (%s):\n", r.Version, was); err != nil {
		return err
	}
	return WriteChanges(w, r.Changes)
}

// Show formats for `citypulse plan show [-version N] [-format text|yaml|json]`.
const (
	FormatText = "text" // WriteSummary
	FormatYAML = "yaml" // the plan as YAML, applicable again
	FormatJSON = "json" // the Record as JSON, as the API serves it
)

// Show writes version (0: the active one) in format to w: the core of `citypulse plan show`.
func Show(ctx context.Context, s *Store, w io.Writer, version int, format string) error {
	var rec Record
	var err error
	if version == 0 {
		rec, err = s.Active(ctx)
	} else {
		rec, err = s.Get(ctx, version)
	}
	if err != nil {
		return err
	}
	switch format {
	case FormatText, "":
		return WriteSummary(w, rec)
	case FormatYAML:
		y, err := rec.Plan.YAML()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "# tracking plan version %d, applied %s by %s\n%s", rec.Version, rec.AppliedAt.Format("2006-01-02 15:04:05Z07:00"), rec.AppliedBy, y)
		return err
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rec)
	default:
		return fmt.Errorf("format %q: want text, yaml or json", format)
	}
}
