package community

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Action is what the pipeline must do about a planted defect.
type Action string

// Actions of the ground truth.
const (
	// ActionQuarantine: the row is refused; Code (a standard.FieldError code) on Field, with the
	// validator's kind Detail when a format validator fails.
	ActionQuarantine Action = "quarantine"
	// ActionFixFlag: the row is accepted with the value fixed and the quality flag Flag.
	ActionFixFlag Action = "fix_flag"
	// ActionCollapse: the row is the same entity as Of (same identity key after cleaning); the
	// two collapse into one.
	ActionCollapse Action = "collapse"
	// ActionReport: the row is valid, but its address is stale; the person lives at Current
	// (per person_house), and a comparison must report the difference.
	ActionReport Action = "report"
)

// Place is a house by community and standard address.
type Place struct {
	RegionCode string `json:"region_code"`
	Address    string `json:"address"`
}

// Defect is one planted defect or dirty field: one line of the ground truth file
// (ground_truth.jsonl), e.g.
//
//	{"source":"community","dataset":"person","row":17,"field":"id_card","kind":"id_checksum","variant":"wrong check character","action":"quarantine","code":"format","detail":"checksum"}
//	{"source":"police","dataset":"person","row":40,"field":"id_card","kind":"duplicate_person","variant":"15-digit legacy ID","action":"collapse","of":{"source":"community","dataset":"person","row":512}}
//	{"source":"community","dataset":"person","row":77,"field":"address","kind":"stale_address","variant":"address of the house moved out of","action":"report","current":{"region_code":"510104017002","address":"锦江区…"}}
//	{"source":"hotline","dataset":"opinion","row":3,"field":"title","kind":"dirty","variant":"surrounding spaces","action":"fix_flag","flag":"dirty_fixed"}
//
// Row is the 1-based data row of the source's file of the dataset, as the feeds gateway numbers
// it. A row has at most one defect and at most one dirty field (never the same field).
type Defect struct {
	Key
	Field   string `json:"field"`
	Kind    Kind   `json:"kind"`
	Variant string `json:"variant,omitempty"` // what was done, e.g. "30 February", "+86 and dashes"
	Action  Action `json:"action"`
	Code    string `json:"code,omitempty"`    // quarantine: the standard.FieldError code of Field
	Detail  string `json:"detail,omitempty"`  // quarantine: the FieldError's Detail (validate.Kind…), "" for required/code_table
	Flag    string `json:"flag,omitempty"`    // fix_flag: the quality flag
	Of      *Key   `json:"of,omitempty"`      // collapse: the original record
	Current *Place `json:"current,omitempty"` // report: where the person lives now
}

func (d Defect) String() string {
	return fmt.Sprintf("%s %s %s (%s) → %s", d.Key, d.Field, d.Kind, d.Variant, d.Action)
}

// WriteGroundTruth writes defects as JSON lines.
func WriteGroundTruth(w io.Writer, defects []Defect) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range defects {
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("write ground truth: %w", err)
		}
	}
	return nil
}

// ReadGroundTruth reads a ground truth file written by Run (or WriteGroundTruth). Unknown keys
// are errors.
func ReadGroundTruth(r io.Reader) ([]Defect, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Defect
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var d Defect
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("ground truth line %d: %w", n, err)
		}
		if d.Source == "" || d.Dataset == "" || d.Row < 1 || d.Kind == "" || d.Action == "" {
			return nil, fmt.Errorf("ground truth line %d: source, dataset, row, kind and action are required", n)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	return out, nil
}
