package standard

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

var (
	types         = map[string]bool{TypeString: true, TypeInt: true, TypeDecimal: true, TypeDate: true, TypeDateTime: true, TypeBool: true, TypeCode: true}
	formats       = map[string]bool{FormatIDCard: true, FormatMobile: true, FormatUSCC: true, FormatRegionCode: true, FormatMultiline: true}
	sensitivities = map[string]bool{Public: true, Internal: true, Sensitive: true, Personal: true}
	levels        = map[string]bool{dimdata.LevelCity: true, dimdata.LevelDistrict: true, dimdata.LevelStreet: true, dimdata.LevelCommunity: true}
	derivedParts  = map[string]string{"birth_date": TypeDate, "gender": TypeCode}
)

type checker struct {
	errs []error
}

func (c *checker) errorf(file, at, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if at != "" {
		msg = at + ": " + msg
	}
	c.errs = append(c.errs, fmt.Errorf("%s: %s", file, msg))
}

// check validates the whole standard and builds the lookup indexes. Code tables come first: fields
// refer to them.
func (s *Standard) check() []error {
	c := &checker{}
	for _, name := range s.CodeTables() {
		c.table(name, s.tables[name])
	}
	for _, name := range s.Datasets() {
		c.dataset(name, s.datasets[name], s.tables)
	}
	return c.errs
}

func (c *checker) table(base string, t *CodeTable) {
	f := t.file
	switch {
	case t.Name != base:
		c.errorf(f, "table", "%q differs from the file name %q", t.Name, base)
	case !identRE.MatchString(t.Name):
		c.errorf(f, "table", "%q is not a lower-case identifier", t.Name)
	}
	if t.Label == "" {
		c.errorf(f, "label", "missing")
	}
	if t.Version < 1 {
		c.errorf(f, "version", "must be 1 or more, got %d", t.Version)
	}
	if t.Source == "" {
		c.errorf(f, "source", "missing (name the national standard, or \"CityPulse local\")")
	}
	if len(t.Codes) == 0 {
		c.errorf(f, "codes", "no codes")
	}
	t.lookup = make(map[string]string, 4*len(t.Codes))
	owner := map[string]string{}
	for i, code := range t.Codes {
		at := fmt.Sprintf("codes[%d]", i)
		if code.Code == "" || strings.TrimSpace(code.Code) != code.Code {
			c.errorf(f, at+".code", "empty or padded code %q", code.Code)
			continue
		}
		if code.Label == "" {
			c.errorf(f, at+".label", "missing")
		}
		if prev, dup := owner[code.Code]; dup && prev == code.Code {
			c.errorf(f, at+".code", "code %q declared twice", code.Code)
			continue
		}
		keys := append([]string{code.Code, code.Label}, code.Aliases...)
		for _, k := range keys {
			if k == "" {
				continue
			}
			for _, key := range []string{k, strings.ToLower(k)} {
				if prev, taken := owner[key]; taken && prev != code.Code {
					c.errorf(f, at, "%q already names code %q", k, prev)
					break
				}
				owner[key] = code.Code
				t.lookup[key] = code.Code
			}
		}
	}
}

func (c *checker) dataset(base string, d *Dataset, tables map[string]*CodeTable) {
	f := d.file
	switch {
	case d.Name != base:
		c.errorf(f, "dataset", "%q differs from the file name %q", d.Name, path.Base(base))
	case !identRE.MatchString(d.Name):
		c.errorf(f, "dataset", "%q is not a lower-case identifier", d.Name)
	}
	if d.Label == "" {
		c.errorf(f, "label", "missing")
	}
	if d.Version < 1 {
		c.errorf(f, "version", "must be 1 or more, got %d", d.Version)
	}
	if d.Description == "" {
		c.errorf(f, "description", "missing")
	}
	if len(d.Fields) == 0 {
		c.errorf(f, "fields", "no fields")
	}
	d.byName = make(map[string]*Field, len(d.Fields))
	d.rows = &sync.Pool{New: func() any { return d.NewRow() }}
	for i, fl := range d.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if fl == nil {
			c.errorf(f, at, "empty field")
			continue
		}
		fl.index = i
		if !identRE.MatchString(fl.Name) {
			c.errorf(f, at+".name", "%q is not a lower-case identifier", fl.Name)
			continue
		}
		at += " (" + fl.Name + ")"
		if _, dup := d.byName[fl.Name]; dup {
			c.errorf(f, at, "field declared twice")
			continue
		}
		d.byName[fl.Name] = fl
		c.field(f, at, fl, tables)
	}
	d.sortedFields = make([]*Field, 0, len(d.byName))
	for _, fl := range d.byName {
		d.sortedFields = append(d.sortedFields, fl)
	}
	sort.Slice(d.sortedFields, func(i, j int) bool { return d.sortedFields[i].Name < d.sortedFields[j].Name })
	for i, fl := range d.sortedFields {
		fl.sortedPos = i
	}
	// Derived fields need their source, which must be a resident ID field.
	for i, fl := range d.Fields {
		if fl == nil || fl.DerivedFrom == "" {
			continue
		}
		at := fmt.Sprintf("fields[%d] (%s).derived_from", i, fl.Name)
		src, part, _ := strings.Cut(fl.DerivedFrom, ".")
		sf, ok := d.byName[src]
		switch {
		case !ok:
			c.errorf(f, at, "source field %q is not declared", src)
		case sf.Format != FormatIDCard:
			c.errorf(f, at, "source field %q is not an id_card field", src)
		case derivedParts[part] == "":
			c.errorf(f, at, "unknown part %q (want birth_date or gender)", part)
		case derivedParts[part] != fl.Type:
			c.errorf(f, at, "part %q is a %s, field is a %s", part, derivedParts[part], fl.Type)
		case part == "gender" && fl.CodeTable != "gender":
			c.errorf(f, at, "part gender needs code_table gender")
		default:
			fl.derivedSrc, fl.derivedGender = sf.index, part == "gender"
			d.derived = append(d.derived, fl)
		}
	}
	if len(d.Identity) == 0 {
		c.errorf(f, "identity", "no identity key (the fields that identify a record across sources)")
	}
	seen := map[string]bool{}
	for i, name := range d.Identity {
		at := fmt.Sprintf("identity[%d]", i)
		fl, ok := d.byName[name]
		switch {
		case !ok:
			c.errorf(f, at, "field %q is not declared", name)
		case seen[name]:
			c.errorf(f, at, "field %q listed twice", name)
		case !fl.Required:
			c.errorf(f, at, "field %q is not required", name)
		}
		seen[name] = true
	}
}

func (c *checker) field(f, at string, fl *Field, tables map[string]*CodeTable) {
	if fl.Label == "" {
		c.errorf(f, at+".label", "missing")
	}
	if !types[fl.Type] {
		c.errorf(f, at+".type", "unknown type %q (want string, int, decimal, date, datetime, bool or code)", fl.Type)
		return
	}
	if !sensitivities[fl.Sensitivity] {
		c.errorf(f, at+".sensitivity", "unknown grade %q (want public, internal, sensitive or personal)", fl.Sensitivity)
	}
	if fl.Format != "" {
		switch {
		case !formats[fl.Format]:
			c.errorf(f, at+".format", "unknown format %q", fl.Format)
		case fl.Type != TypeString:
			c.errorf(f, at+".format", "format %s needs type string, not %s", fl.Format, fl.Type)
		}
	}
	switch {
	case fl.Type == TypeCode && fl.CodeTable == "":
		c.errorf(f, at+".code_table", "missing for a code field")
	case fl.Type != TypeCode && fl.CodeTable != "":
		c.errorf(f, at+".code_table", "only code fields have a code table")
	case fl.CodeTable != "":
		if fl.table = tables[fl.CodeTable]; fl.table == nil {
			c.errorf(f, at+".code_table", "table %q is not declared", fl.CodeTable)
		}
	}
	if fl.MaxLength < 0 || (fl.MaxLength > 0 && fl.Type != TypeString) {
		c.errorf(f, at+".max_length", "only a positive length on a string field")
	}
	if (fl.Min != nil || fl.Max != nil) && fl.Type != TypeInt && fl.Type != TypeDecimal {
		c.errorf(f, at, "min and max apply to int and decimal fields only")
	} else if fl.Min != nil && fl.Max != nil && *fl.Min > *fl.Max {
		c.errorf(f, at, "min %v is above max %v", *fl.Min, *fl.Max)
	}
	if fl.RegionLevel != "" {
		switch {
		case fl.Format != FormatRegionCode:
			c.errorf(f, at+".region_level", "only region_code fields have a level")
		case !levels[fl.RegionLevel]:
			c.errorf(f, at+".region_level", "unknown level %q (want city, district, street or community)", fl.RegionLevel)
		}
	}
	if fl.DerivedFrom != "" && fl.Required {
		c.errorf(f, at+".derived_from", "a derived field cannot be required (its source is)")
	}
}
