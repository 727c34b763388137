package community

import (
	"fmt"
	"os"
	"testing"

	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// rowKey names one generated record: source, dataset and 1-based row of the source's file.
type rowKey struct {
	Source, Dataset string
	Row             int
}

func (k rowKey) String() string { return fmt.Sprintf("%s/%s#%d", k.Source, k.Dataset, k.Row) }

func keyOf(k sim.Key) rowKey { return rowKey{k.Source, k.Dataset, k.Row} }

// fieldKey is one field of one record.
type fieldKey struct {
	rowKey
	Field string
}

// truth indexes the ground truth by what the test scores.
type truth struct {
	quarantine map[fieldKey]sim.Defect // planted quarantine defects
	bad        map[rowKey]bool         // records with a quarantine defect: refused, never loaded
	dirty      map[rowKey]sim.Defect   // fix_flag entries, by record (at most one per record)
	collapse   []sim.Defect            // police copies of community people
	stale      []sim.Defect            // people whose address is a house they moved out of
	touched    map[fieldKey]bool       // every field the ground truth names (defect or dirt)
}

func readTruth(tb testing.TB, path string) []sim.Defect {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, err := sim.ReadGroundTruth(f)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func indexTruth(tb testing.TB, defects []sim.Defect) *truth {
	tb.Helper()
	t := &truth{quarantine: map[fieldKey]sim.Defect{}, bad: map[rowKey]bool{}, dirty: map[rowKey]sim.Defect{}, touched: map[fieldKey]bool{}}
	for _, d := range defects {
		k := fieldKey{keyOf(d.Key), d.Field}
		t.touched[k] = true
		switch d.Action {
		case sim.ActionQuarantine:
			t.quarantine[k] = d
			t.bad[k.rowKey] = true
		case sim.ActionFixFlag:
			t.dirty[k.rowKey] = d
		case sim.ActionCollapse:
			t.collapse = append(t.collapse, d)
		case sim.ActionReport:
			t.stale = append(t.stale, d)
		default:
			tb.Fatalf("ground truth: unknown action %q in %s", d.Action, d)
		}
	}
	return t
}

// residentNumber is the 18-digit resident ID a person record names ("" when it names none that
// is valid).
func residentNumber(c *city, row map[string]string) string {
	id, err := validate.ParseResidentID(row["id_card"], c.mem.AsOf)
	if err != nil {
		return ""
	}
	return id.Number
}

// validRows returns the keys of a source's records of a dataset that carry no quarantine defect.
func (c *city) validRows(tr *truth, source, dataset string) []rowKey {
	b := c.mem.Batch(source, dataset)
	if b == nil {
		return nil
	}
	var out []rowKey
	for i := range b.Rows {
		if k := (rowKey{source, dataset, i + 1}); !tr.bad[k] {
			out = append(out, k)
		}
	}
	return out
}

// record returns the generated record k names.
func (c *city) record(k rowKey) map[string]string {
	return c.mem.Record(sim.Key{Source: k.Source, Dataset: k.Dataset, Row: k.Row})
}
