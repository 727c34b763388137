package cleaning

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/citypulse/citypulse/warehouse/standard"
)

// wideStandard is a standard with one dataset, wide, of n string fields f00…: f01, f33 and f40
// are community codes, f35 a mobile number (protected in wideSpec). Rows of more than 32 fields
// do not fit the Names cache's layout key, so their Names are built row by row.
func wideStandard(t *testing.T, n int) *standard.Standard {
	t.Helper()
	var b strings.Builder
	b.WriteString("dataset: wide\nlabel: wide\nversion: 1\ndescription: test\nidentity: [f00]\nfields:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: f%02d\n    label: f%02d\n    type: string\n    sensitivity: internal\n", i, i)
		switch i {
		case 0:
			b.WriteString("    required: true\n")
		case 1, 33, 40:
			b.WriteString("    format: region_code\n    region_level: community\n")
		case 35:
			b.WriteString("    format: mobile\n")
		}
	}
	std, err := standard.LoadFS(fstest.MapFS{"datasets/wide.yaml": {Data: []byte(b.String())}})
	if err != nil {
		t.Fatal(err)
	}
	return std
}

// TestCleanWideDataset: a dataset of more than 32 (and more than 64) fields gets the same Names
// and Values, pair by pair, as the reference Clean, whichever fields a record has.
func TestCleanWideDataset(t *testing.T) {
	const n = 70
	spec := Spec{Dataset: "wide", Protect: map[string]func(string) string{"f35": MaskMobile}}
	c, err := NewCleaner(wideStandard(t, n), spec, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	tests := [][]int{{0}, {0, 1}, {0, 33}, {0, 1, 33}, {0, 65}, {0, 35, 40, 69}, {0, 1, 2, 31, 32, 33, 34, 35, 40, 63, 64, 65, 69}}
	for _, given := range tests {
		t.Run(fmt.Sprint(given), func(t *testing.T) {
			fields := map[string]any{}
			for _, i := range given {
				v := fmt.Sprintf("v%02d", i)
				switch i {
				case 1, 33, 40:
					v = "510104017001"
				case 35:
					v = "13800138000"
				}
				fields[fmt.Sprintf("f%02d", i)] = v
			}
			rec := feed(t, "community", 3, fields)
			rec.Value = []byte(strings.Replace(string(rec.Value), `"dataset":"person"`, `"dataset":"wide"`, 1))
			got, gotQ := c.Clean(rec)
			want, wantQ := c.cleanRef(rec)
			if got == nil || want == nil {
				t.Fatalf("Clean = %+v, %+v; reference %+v, %+v", got, gotQ, want, wantQ)
			}
			if len(got.Names) != len(got.Values) {
				t.Fatalf("%d names for %d values: %v", len(got.Names), len(got.Values), got.Names)
			}
			if fmt.Sprint(got.Names) != fmt.Sprint(want.Names) || fmt.Sprint(got.Values) != fmt.Sprint(want.Values) {
				t.Errorf("names %v\nvalues %v\nwant names %v\nvalues %v", got.Names, got.Values, want.Names, want.Values)
			}
		})
	}
}
