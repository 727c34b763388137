package standard

import (
	"fmt"
	"slices"
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
//
// It is Validate on a Row filled from rec; hot paths use a Row directly.
func (d *Dataset) ValidateRecordAt(rec map[string]string, asOf time.Time) (map[string]any, []FieldError) {
	r := d.rows.Get().(*Row)
	defer d.rows.Put(r)
	r.Reset()
	for k, v := range rec {
		r.Set(k, v)
	}
	d.Validate(r, asOf)
	out := make(map[string]any, len(d.Fields))
	for i, v := range r.Values {
		if v.Valid() {
			out[d.Fields[i].Name] = v.Any()
		}
	}
	var errs []FieldError
	if len(r.Errors) > 0 {
		errs = append([]FieldError(nil), r.Errors...)
	}
	return out, errs
}

// Value is one field's normalised value in a Row: a string (string, code, date and datetime
// fields), an int64, a float64 or a bool, or nothing (the field is absent, empty or invalid).
type Value struct {
	kind valueKind
	s    string
	n    int64
	x    float64
	b    bool
}

type valueKind uint8

const (
	kindNone valueKind = iota
	kindString
	kindInt
	kindFloat
	kindBool
)

func stringValue(s string) Value { return Value{kind: kindString, s: s} }

// Valid reports whether the field has a value.
func (v Value) Valid() bool { return v.kind != kindNone }

// Any is the value as ValidateRecordAt's map holds it: string, int64, float64 or bool; nil when
// absent.
func (v Value) Any() any {
	switch v.kind {
	case kindString:
		return v.s
	case kindInt:
		return v.n
	case kindFloat:
		return v.x
	case kindBool:
		return v.b
	}
	return nil
}

// String is the value as text: strings as they are, integers in decimal, decimals in their
// shortest 'f' form (strconv.FormatFloat(x, 'f', -1, 64)), booleans as true/false; "" when absent.
func (v Value) String() string {
	switch v.kind {
	case kindString:
		return v.s
	case kindInt:
		return strconv.FormatInt(v.n, 10)
	case kindFloat:
		return strconv.FormatFloat(v.x, 'f', -1, 64)
	case kindBool:
		return strconv.FormatBool(v.b)
	}
	return ""
}

// Row is one record laid out in its dataset's field order, and the result of validating it: the
// positional form of ValidateRecordAt, without a map per record. Make one per goroutine with
// Dataset.NewRow and reuse it (Reset, Set or Raw, Validate); it is not safe for concurrent use.
type Row struct {
	d *Dataset
	// Raw holds the raw text of each field by its position in Dataset.Fields; "" is absent.
	Raw []string
	// Unknown are the names the record gives that the dataset does not declare, in any order and
	// possibly repeated; Validate sorts them and drops repeats.
	Unknown []string
	// Values are, after Validate, the normalised values by field position (ValidateRecordAt's
	// map, laid out).
	Values []Value
	// Errors are, after Validate, the field errors in ValidateRecordAt's order; the slice is
	// reused by the next Validate.
	Errors []FieldError

	ids   []validate.ResidentID // by field position, for derived fields
	hasID []bool
	next  int // Set's guess: the position in Dataset.sortedFields of the next name
}

// NewRow returns an empty Row of the dataset.
func (d *Dataset) NewRow() *Row {
	n := len(d.Fields)
	return &Row{d: d, Raw: make([]string, n), Values: make([]Value, n), ids: make([]validate.ResidentID, n), hasID: make([]bool, n)}
}

// Reset clears the row's input (Raw and Unknown).
func (r *Row) Reset() {
	clear(r.Raw)
	r.Unknown = r.Unknown[:0]
	r.next = 0
}

// Set sets a field by name; a name the dataset does not declare goes to Unknown. A name set
// twice keeps the last value, as a map would.
//
// Names given in sorted order (as encoding/json writes a map) are matched without a map lookup.
func (r *Row) Set(name, raw string) {
	byName := r.d.sortedFields
	if r.next < len(byName) && byName[r.next].Name == name {
		r.Raw[byName[r.next].index] = raw
		r.next++
		return
	}
	if f, ok := r.d.byName[name]; ok {
		r.Raw[f.index] = raw
		r.next = f.sortedPos + 1
		return
	}
	r.Unknown = append(r.Unknown, name)
}

// Index returns the position of the named field in Fields.
func (d *Dataset) Index(name string) (int, bool) {
	f, ok := d.byName[name]
	if !ok {
		return -1, false
	}
	return f.index, true
}

// Validate cleans, checks and normalises the row as of asOf, exactly as ValidateRecordAt does the
// same record (Raw[i] for field i, the Unknown names as extra keys), into r.Values and r.Errors.
// The row must come from d.NewRow.
func (d *Dataset) Validate(r *Row, asOf time.Time) {
	errs := r.Errors[:0]
	for i, f := range d.Fields {
		r.Values[i] = Value{}
		r.hasID[i] = false
		raw := r.Raw[i]
		if raw == "" {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "missing"})
			}
			continue
		}
		v, isID, fe := f.value(raw, d, asOf, &r.ids[i])
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		if !v.Valid() {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "empty after cleaning"})
			}
			continue
		}
		r.Values[i] = v
		r.hasID[i] = isID
	}
	for _, f := range d.derived {
		if !r.hasID[f.derivedSrc] {
			continue
		}
		id := &r.ids[f.derivedSrc]
		want := id.BirthDate
		if f.derivedGender {
			want = id.Gender
		}
		got := r.Values[f.index]
		switch {
		case !got.Valid():
			// An error of the field itself means it was given (a derived field is never
			// required): keep the error rather than fill it.
			if hasError(errs, f.Name) {
				continue
			}
			r.Values[f.index] = stringValue(want)
		case got.kind != kindString || got.s != want:
			errs = append(errs, FieldError{Field: f.Name, Code: CodeInconsistent,
				Reason: fmt.Sprintf("%v contradicts %s (%s)", got.Any(), d.Fields[f.derivedSrc].Name, want)})
			r.Values[f.index] = Value{}
		}
	}
	if len(r.Unknown) > 0 {
		slices.Sort(r.Unknown)
		r.Unknown = slices.Compact(r.Unknown)
		for _, k := range r.Unknown {
			errs = append(errs, FieldError{Field: k, Code: CodeUnknownField, Reason: "not a field of " + d.Name})
		}
	}
	if len(errs) > 1 {
		sort.SliceStable(errs, func(i, j int) bool { return d.order(errs[i].Field) < d.order(errs[j].Field) })
	}
	r.Errors = errs
}

func hasError(errs []FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
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
//
// A resident ID field's parsed number is stored in *id, and isID reports it.
func (f *Field) value(raw string, d *Dataset, asOf time.Time, id *validate.ResidentID) (v Value, isID bool, fe *FieldError) {
	fail := func(code string, err error) (Value, bool, *FieldError) {
		detail := validate.KindOf(err)
		if detail == validate.KindEncoding {
			code = CodeEncoding
		}
		return Value{}, false, &FieldError{Field: f.Name, Code: code, Detail: detail, Reason: err.Error()}
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
		return Value{}, false, nil
	}
	switch f.Type {
	case TypeString:
		switch f.Format {
		case FormatIDCard:
			if *id, err = validate.ParseResidentID(s, asOf); err != nil {
				return fail(CodeFormat, err)
			}
			return stringValue(id.Number), true, nil
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
			return Value{}, false, &FieldError{Field: f.Name, Code: CodeLength,
				Reason: fmt.Sprintf("%d characters, at most %d", utf8.RuneCountInString(s), f.MaxLength)}
		}
		return stringValue(s), false, nil
	case TypeCode:
		code, ok := f.table.Lookup(s)
		if !ok {
			code, ok = f.table.Lookup(validate.FoldWidth(s))
		}
		if !ok {
			return Value{}, false, &FieldError{Field: f.Name, Code: CodeCodeTable,
				Reason: fmt.Sprintf("%q is not a code of %s (%s)", s, f.table.Name, f.table.Label)}
		}
		return stringValue(code), false, nil
	case TypeDate:
		if s, err = validate.Date(s); err != nil {
			return fail(CodeFormat, err)
		}
		return stringValue(s), false, nil
	case TypeDateTime:
		if s, err = validate.DateTime(s); err != nil {
			return fail(CodeFormat, err)
		}
		return stringValue(s), false, nil
	case TypeInt:
		n, err := strconv.ParseInt(strings.ReplaceAll(validate.FoldWidth(s), ",", ""), 10, 64)
		if err != nil {
			return Value{}, false, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not an integer", s)}
		}
		if fe := f.inRange(float64(n)); fe != nil {
			return Value{}, false, fe
		}
		return Value{kind: kindInt, n: n}, false, nil
	case TypeDecimal:
		x, err := strconv.ParseFloat(strings.ReplaceAll(validate.FoldWidth(s), ",", ""), 64)
		if err != nil || x != x || x > 1e300 || x < -1e300 {
			return Value{}, false, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not a decimal number", s)}
		}
		if fe := f.inRange(x); fe != nil {
			return Value{}, false, fe
		}
		return Value{kind: kindFloat, x: x}, false, nil
	case TypeBool:
		switch strings.ToLower(validate.FoldWidth(s)) {
		case "1", "true", "t", "yes", "y", "是", "有":
			return Value{kind: kindBool, b: true}, false, nil
		case "0", "false", "f", "no", "n", "否", "无":
			return Value{kind: kindBool, b: false}, false, nil
		}
		return Value{}, false, &FieldError{Field: f.Name, Code: CodeType, Reason: fmt.Sprintf("%q is not a yes/no value (1/0, true/false, 是/否)", s)}
	}
	return Value{}, false, &FieldError{Field: f.Name, Code: CodeType, Reason: "unknown type " + f.Type}
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
