package standard

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// FieldError codes: what kind of rule a value broke. They are stable strings; quality scores count
// them and quarantine rows store them.
const (
	CodeRequired     = "required"      // a required field is missing or empty after cleaning
	CodeFormat       = "format"        // fails its format (id_card, mobile, uscc, region_code) or is not a date
	CodeCodeTable    = "code_table"    // not a code, label or alias of the field's code table
	CodeType         = "type"          // not an int, decimal or bool
	CodeLength       = "length"        // longer than max_length characters
	CodeRange        = "range"         // outside min..max
	CodeEncoding     = "encoding"      // invalid UTF-8
	CodeInconsistent = "inconsistent"  // contradicts the field it derives from (gender vs. ID number)
	CodeUnknownField = "unknown_field" // the record has a field the dataset does not declare
)

// FieldError is one field's failure. Detail is the validator's kind (validate.KindChecksum …) when a
// validator failed, else empty.
type FieldError struct {
	Field  string
	Code   string
	Detail string
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidateRecord cleans, checks and normalises one record (field name → raw text) against the
// dataset's standard, as of now. See ValidateRecordAt.
func (d *Dataset) ValidateRecord(rec map[string]string) (map[string]any, []FieldError) {
	return d.ValidateRecordAt(rec, time.Now())
}

// ValidateRecordAt cleans, checks and normalises one record. asOf is the date rules such as "a
// birth date is not in the future" are judged against: pass the batch's receive time so that
// re-processing a batch gives the same result. The normalised map holds every valid, non-empty
// field (types in the package doc); derived fields are filled from their source when empty. Errors
// come in the dataset's field order, then unknown fields by name: the result is deterministic.
// A record is valid when the error slice is empty.
func (d *Dataset) ValidateRecordAt(rec map[string]string, asOf time.Time) (map[string]any, []FieldError) {
	out := make(map[string]any, len(d.Fields))
	var errs []FieldError
	var ids map[string]validate.ResidentID
	for _, f := range d.Fields {
		raw, ok := rec[f.Name]
		if !ok || raw == "" {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "missing"})
			}
			continue
		}
		v, id, fe := f.value(raw, d, asOf)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		if v == nil {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "empty after cleaning"})
			}
			continue
		}
		out[f.Name] = v
		if id != nil {
			if ids == nil {
				ids = make(map[string]validate.ResidentID, 1)
			}
			ids[f.Name] = *id
		}
	}
	for _, f := range d.derived {
		src, part, _ := strings.Cut(f.DerivedFrom, ".")
		id, ok := ids[src]
		if !ok {
			continue
		}
		want := id.BirthDate
		if part == "gender" {
			want = id.Gender
		}
		got, given := out[f.Name]
		switch {
		case !given:
			if _, failed := rec[f.Name]; failed && hasError(errs, f.Name) {
				continue
			}
			out[f.Name] = want
		case got != want:
			errs = append(errs, FieldError{Field: f.Name, Code: CodeInconsistent,
				Reason: fmt.Sprintf("%v contradicts %s (%s)", got, src, want)})
			delete(out, f.Name)
		}
	}
	errs = d.unknown(rec, errs)
	if len(errs) > 1 {
		sort.SliceStable(errs, func(i, j int) bool { return d.order(errs[i].Field) < d.order(errs[j].Field) })
	}
	return out, errs
}

func hasError(errs []FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// unknown appends an error for every field of rec the dataset does not declare, sorted by name.
func (d *Dataset) unknown(rec map[string]string, errs []FieldError) []FieldError {
	var names []string
	for k := range rec { // a map lookup per key: cheap next to the validators

		if _, ok := d.byName[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		errs = append(errs, FieldError{Field: k, Code: CodeUnknownField, Reason: "not a field of " + d.Name})
	}
	return errs
}

// order is a field's position, unknown fields last.
func (d *Dataset) order(name string) int {
	if f, ok := d.byName[name]; ok {
		return f.index
	}
	return len(d.Fields)
}

// value cleans and converts one non-empty raw value. A nil value without error means the value was
// empty after cleaning.
func (f *Field) value(raw string, d *Dataset, asOf time.Time) (any, *validate.ResidentID, *FieldError) {
	fail := func(code string, err error) (any, *validate.ResidentID, *FieldError) {
		detail := validate.KindOf(err)
		if detail == validate.KindEncoding {
			code = CodeEncoding
		}
		return nil, nil, &FieldError{Field: f.Name, Code: code, Detail: detail, Reason: err.Error()}
	}
	var s string
	var err error
	if f.Format == FormatMultiline {
		s, err = validate.MultiLine(raw)
	} else {
		s, err = validate.Text(raw)
	}
	if err != nil {
		return fail(CodeEncoding, err)
	}
	if s == "" {
		return nil, nil, nil
	}
	switch f.Type {
	case TypeString:
		switch f.Format {
		case FormatIDCard:
			id, err := validate.ParseResidentID(s, asOf)
			if err != nil {
				return fail(CodeFormat, err)
			}
			return id.Number, &id, nil
		case FormatMobile:
			s, err = validate.Mobile(s)
		case FormatUSCC:
			s, err = validate.USCC(s)
		case FormatRegionCode:
			var r validate.Region
			r, err = d.regions.LookupLevel(s, f.RegionLevel)
			s = r.Code
		}
		if err != nil {
			return fail(CodeFormat, err)
		}
		if f.MaxLength > 0 && len(s) > f.MaxLength && utf8.RuneCountInString(s) > f.MaxLength {
			return nil, nil, &FieldError{Field: f.Name, Code: CodeLength,
				Reason: fmt.Sprintf("%d characters, at most %d", utf8.RuneCountInString(s), f.MaxLength)}
		}
		return s, nil, nil
	case TypeCode:
		code, ok := f.table.Lookup(s)
		if !ok {
			code, ok = f.table.Lookup(validate.FoldWidth(s))
		}
		if !ok {
			return nil, nil, &FieldError{Field: f.Name, Code: CodeCodeTable,
				Reason: fmt.Sprintf("%q is not a code of %s (%s)", s, f.table.Name, f.table.Label)}
		}
		return code, nil, nil
	case TypeDate:
		if s, err = validate.Date(s); err != nil {
			return fail(CodeFormat, err)
		}
		return s, nil, nil
	case TypeDateTime:
		if s, err = validate.DateTime(s); err != nil {
			return fail(CodeFormat, err)
		}
		return s, nil, nil
	case TypeInt:
		n, err := strconv.ParseInt(strings.ReplaceAll(validate.FoldWidth(s), ",", ""), 10, 64)
		if err != nil {
			return nil, nil, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not an integer", s)}
		}
		if fe := f.inRange(float64(n)); fe != nil {
			return nil, nil, fe
		}
		return n, nil, nil
	case TypeDecimal:
		x, err := strconv.ParseFloat(strings.ReplaceAll(validate.FoldWidth(s), ",", ""), 64)
		if err != nil || x != x || x > 1e300 || x < -1e300 {
			return nil, nil, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not a decimal number", s)}
		}
		if fe := f.inRange(x); fe != nil {
			return nil, nil, fe
		}
		return x, nil, nil
	case TypeBool:
		switch strings.ToLower(validate.FoldWidth(s)) {
		case "1", "true", "t", "yes", "y", "是", "有":
			return true, nil, nil
		case "0", "false", "f", "no", "n", "否", "无":
			return false, nil, nil
		}
		return nil, nil, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not a yes/no value (1/0, true/false, 是/否)", s)}
	}
	return nil, nil, &FieldError{Field: f.Name, Code: CodeType, Reason: "unknown type " + f.Type}
}

func (f *Field) inRange(x float64) *FieldError {
	if (f.Min != nil && x < *f.Min) || (f.Max != nil && x > *f.Max) {
		return &FieldError{Field: f.Name, Code: CodeRange, Reason: fmt.Sprintf("%v is outside %s", x, f.rangeText())}
	}
	return nil
}

func (f *Field) rangeText() string {
	lo, hi := "-∞", "+∞"
	if f.Min != nil {
		lo = strconv.FormatFloat(*f.Min, 'f', -1, 64)
	}
	if f.Max != nil {
		hi = strconv.FormatFloat(*f.Max, 'f', -1, 64)
	}
	return lo + "–" + hi
}
