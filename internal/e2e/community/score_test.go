package community

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"unicode"

	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// score counts one class of planted defects against what the pipeline did.
type score struct {
	Planted, Found, Hits int
}

// precision is hits over found (1 when nothing was found).
func (s score) precision() float64 {
	if s.Found == 0 {
		return 1
	}
	return float64(s.Hits) / float64(s.Found)
}

// recall is hits over planted (1 when nothing was planted).
func (s score) recall() float64 {
	if s.Planted == 0 {
		return 1
	}
	return float64(s.Hits) / float64(s.Planted)
}

func (s *score) add(o score) {
	s.Planted, s.Found, s.Hits = s.Planted+o.Planted, s.Found+o.Found, s.Hits+o.Hits
}

// Action classes scored, in the order of the report.
var classes = []string{string(sim.ActionQuarantine), string(sim.ActionFixFlag), string(sim.ActionCollapse), string(sim.ActionReport)}

// dsReport is what the pipeline did with one dataset.
type dsReport struct {
	Rows       int   // rows pushed
	Refused    int   // records with at least one quarantine row
	QRows      int   // quarantine rows
	DWD        int   // dwd FINAL rows
	Quarantine score // planted quarantine defects
	Dirt       score // fix_flag on community rows
	Lost       int   // valid records neither in dwd FINAL nor collapsed into another
}

// scoreReport is the whole score: per action class and per dataset.
type scoreReport struct {
	Class    map[string]*score
	Datasets map[string]*dsReport
	// DetailMismatch counts quarantine hits whose detail differs from the planted one.
	DetailMismatch int
	// DeptDirt is the recall-only count of dirt planted in department rows that ended in dwd with
	// dirty_fixed (department rows get the flag from their style alone, so precision means
	// nothing there).
	DeptDirt score
	// Undetectable counts stale addresses whose closed relation was itself quarantined.
	Undetectable int
	// Problems are descriptions of misses and false finds (the first few are shown).
	Problems []string
}

func newReport() *scoreReport {
	r := &scoreReport{Class: map[string]*score{}, Datasets: map[string]*dsReport{}}
	for _, c := range classes {
		r.Class[c] = &score{}
	}
	for _, ds := range sim.Datasets() {
		r.Datasets[ds] = &dsReport{}
	}
	return r
}

func (r *scoreReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// scoreQuarantine: a planted quarantine defect is found when ods_feed_quarantine has a row of
// the same source, batch row, field and code.
func (r *scoreReport) scoreQuarantine(tr *truth, found []quarantined) {
	refused, at := map[rowKey]bool{}, map[fieldKey]bool{}
	for _, q := range found {
		at[q.fieldKey] = true
		ds := r.Datasets[q.Dataset]
		ds.QRows++
		ds.Quarantine.Found++
		refused[q.rowKey] = true
		d, ok := tr.quarantine[q.fieldKey]
		switch {
		case ok && d.Code == q.Code:
			ds.Quarantine.Hits++
			if d.Detail != q.Detail {
				r.DetailMismatch++
				r.problem("quarantine %s %s: detail %q, planted %q (%s)", q.rowKey, q.Field, q.Detail, d.Detail, d.Variant)
			}
		case ok:
			r.problem("quarantine %s %s: code %s, planted %s (%s)", q.rowKey, q.Field, q.Code, d.Code, d.Variant)
		default:
			r.problem("quarantine %s %s/%s/%s: nothing planted there", q.rowKey, q.Field, q.Code, q.Detail)
		}
	}
	for k := range refused {
		r.Datasets[k.Dataset].Refused++
	}
	for k, d := range tr.quarantine {
		r.Datasets[k.Dataset].Quarantine.Planted++
		if !at[k] {
			r.problem("quarantine missed: %s (%s, want %s/%s)", d, d.Variant, d.Code, d.Detail)
		}
	}
	for _, ds := range r.Datasets {
		r.Class[string(sim.ActionQuarantine)].add(ds.Quarantine)
	}
}

// scoreLoaded scores the dirt of community records (fixed and flagged dirty_fixed in dwd) and
// counts valid records that are not in dwd FINAL. present are the dwd FINAL rows by dataset;
// collapsed are valid records that another record of the same identity replaced.
func (r *scoreReport) scoreLoaded(c *city, tr *truth, present map[string][]dwdRow, collapsed map[rowKey]bool) {
	for ds, rows := range present {
		rep := r.Datasets[ds]
		rep.DWD = len(rows)
		dirtyIn := map[rowKey]bool{} // record in FINAL → flagged dirty_fixed
		for _, row := range rows {
			dirtyIn[row.rowKey] = row.Dirty
			if row.Source != sim.SourceCommunity || !row.Dirty {
				continue
			}
			rep.Dirt.Found++
			if _, ok := tr.dirty[row.rowKey]; ok {
				rep.Dirt.Hits++
			} else {
				r.problem("dirty_fixed on %s, where nothing dirty was planted", row.rowKey)
			}
		}
		for _, src := range sim.SourceIDs() {
			for _, k := range c.validRows(tr, src, ds) {
				flagged, in := dirtyIn[k]
				if !in && !collapsed[k] {
					rep.Lost++
					r.problem("valid record %s is not in dwd FINAL", k)
				}
				d, dirty := tr.dirty[k]
				switch {
				case !dirty || collapsed[k]:
				case src != sim.SourceCommunity:
					r.DeptDirt.Planted++
					if flagged {
						r.DeptDirt.Hits++
					}
				default:
					rep.Dirt.Planted++
					if !flagged {
						r.problem("dirt missed: %s (%s)", d, d.Variant)
					}
				}
			}
		}
		r.Class[string(sim.ActionFixFlag)].add(rep.Dirt)
	}
}

// scoreCollapse: a planted duplicate collapses when the police copy is absent from dwd_person
// FINAL and the community original it copies is there: ReplacingMergeTree replaced the older
// row by the newer one of the same identity_key. Every valid person record absent from FINAL is
// a collapse found. It returns the collapsed records.
func (r *scoreReport) scoreCollapse(c *city, tr *truth, persons []dwdRow) map[rowKey]bool {
	in := map[rowKey]bool{}
	for _, p := range persons {
		in[p.rowKey] = true
	}
	planted := map[rowKey]rowKey{} // police copy → community original
	for _, d := range tr.collapse {
		if orig := keyOf(*d.Of); !tr.bad[orig] {
			planted[keyOf(d.Key)] = orig
		}
	}
	s := r.Class[string(sim.ActionCollapse)]
	s.Planted = len(planted)
	collapsed := map[rowKey]bool{}
	for _, src := range []string{sim.SourceCommunity, sim.SourcePolice} {
		for _, k := range c.validRows(tr, src, sim.DatasetPerson) {
			if in[k] {
				continue
			}
			s.Found++
			collapsed[k] = true
			if orig, ok := planted[k]; ok && in[orig] {
				s.Hits++
			} else {
				r.problem("%s collapsed into another record, but is no planted duplicate", k)
			}
		}
	}
	for dup, orig := range planted {
		if in[dup] || !in[orig] {
			r.problem("duplicate %s of %s did not collapse (copy in FINAL %v, original %v)", dup, orig, in[dup], in[orig])
		}
	}
	return collapsed
}

// norm is a value as the standard compares it: full-width folded, surrounding spaces trimmed.
func norm(s string) string { return strings.TrimFunc(validate.FoldWidth(s), unicode.IsSpace) }

// scoreStale: a planted stale address is found when the oracle reports the person's record, and
// the place it gives as current is where the person lives. A stale address is detectable only
// when the closed relation to the stated house was loaded (not quarantined itself).
func (r *scoreReport) scoreStale(c *city, tr *truth, found []staleFound) {
	rels := map[string][]rowKey{} // resident ID → community person_house records
	ph := c.mem.Batch(sim.SourceCommunity, sim.DatasetPersonHouse)
	for i, row := range ph.Rows {
		rels[norm(row["id_card"])] = append(rels[norm(row["id_card"])], rowKey{sim.SourceCommunity, sim.DatasetPersonHouse, i + 1})
	}
	want := map[rowKey]sim.Defect{}
	for _, d := range tr.stale {
		k := keyOf(d.Key)
		row := c.record(k)
		detectable, livesKnown := false, false
		for _, rk := range rels[residentNumber(c, row)] {
			rel := c.record(rk)
			if tr.bad[rk] {
				continue
			}
			if norm(rel["move_out_date"]) != "" && norm(rel["region_code"]) == norm(row["region_code"]) && norm(rel["address"]) == norm(row["address"]) {
				detectable = true
			}
			if norm(rel["move_out_date"]) == "" {
				livesKnown = true
			}
		}
		if !detectable {
			r.Undetectable++
			continue
		}
		if !livesKnown {
			d.Current = nil // the open relation was quarantined: where they live is unknown
		}
		want[k] = d
	}
	s := r.Class[string(sim.ActionReport)]
	s.Planted, s.Found = len(want), len(found)
	seen := map[rowKey]bool{}
	for _, f := range found {
		d, ok := want[f.rowKey]
		switch {
		case !ok:
			r.problem("stale address reported for %s, where none was planted", f.rowKey)
		case d.Current != nil && (f.Region != d.Current.RegionCode || f.Address != norm(d.Current.Address)):
			r.problem("stale address of %s: lives at %s %s, the oracle says %s %s", f.rowKey, d.Current.RegionCode, d.Current.Address, f.Region, f.Address)
		default:
			s.Hits++
			seen[f.rowKey] = true
		}
	}
	for k, d := range want {
		if !seen[k] {
			r.problem("stale address missed: %s", d)
		}
	}
}

// table renders the per-dataset counts and the per-class precision and recall.
func (r *scoreReport) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "dataset\trows\trefused\tquarantine rows\tdwd FINAL\tq planted\tq found\tq hits\tdirt planted\tdirt found\tdirt hits\tlost\t")
	for _, ds := range sim.Datasets() {
		d := r.Datasets[ds]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", ds, d.Rows, d.Refused, d.QRows, d.DWD,
			d.Quarantine.Planted, d.Quarantine.Found, d.Quarantine.Hits, d.Dirt.Planted, d.Dirt.Found, d.Dirt.Hits, d.Lost)
	}
	fmt.Fprintln(w, "\t\t\t\t\t\t\t\t\t\t\t\t")
	fmt.Fprintln(w, "action\tplanted\tfound\thits\tprecision\trecall\t")
	for _, c := range classes {
		s := r.Class[c]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.4f\t%.4f\t\n", c, s.Planted, s.Found, s.Hits, s.precision(), s.recall())
	}
	w.Flush()
	fmt.Fprintf(&b, "fix_flag is scored on community rows; department dirt in dwd with dirty_fixed: %d of %d (recall only).\n", r.DeptDirt.Hits, r.DeptDirt.Planted)
	fmt.Fprintf(&b, "quarantine hits whose validator detail differs from the planted one: %d; stale addresses not detectable (their closed relation was quarantined): %d\n", r.DetailMismatch, r.Undetectable)
	return b.String()
}
