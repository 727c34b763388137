package standard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

//go:embed datasets/*.yaml codetables/*.yaml
var embedded embed.FS

// Field types.
const (
	TypeString   = "string"
	TypeInt      = "int"
	TypeDecimal  = "decimal"
	TypeDate     = "date"
	TypeDateTime = "datetime"
	TypeBool     = "bool"
	TypeCode     = "code" // a value of a code table
)

// Formats of string fields, each backed by a validator.
const (
	FormatIDCard     = "id_card"     // validate.ParseResidentID
	FormatMobile     = "mobile"      // validate.Mobile
	FormatUSCC       = "uscc"        // validate.USCC
	FormatRegionCode = "region_code" // validate.Regions.LookupLevel
	FormatMultiline  = "multiline"   // validate.MultiLine (default for strings: validate.Text)
)

// Sensitivity grades, from the least to the most protected.
const (
	Public    = "public"    // may be published
	Internal  = "internal"  // for platform users of the region
	Sensitive = "sensitive" // need-to-know; exports need approval
	Personal  = "personal"  // personal information: encrypted or masked, every access logged
)

// Standard is the loaded, checked data standard. It is immutable and safe for concurrent use.
type Standard struct {
	datasets map[string]*Dataset
	tables   map[string]*CodeTable
	regions  *validate.Regions
	digest   string
}

// Dataset is the standard of one dataset.
type Dataset struct {
	Name        string   `yaml:"dataset"`
	Label       string   `yaml:"label"`
	Version     int      `yaml:"version"`
	Description string   `yaml:"description"`
	Identity    []string `yaml:"identity"`
	Fields      []*Field `yaml:"fields"`

	file    string
	byName  map[string]*Field
	regions *validate.Regions
	derived []*Field   // fields with DerivedFrom, validated after the others
	rows    *sync.Pool // of *Row, for ValidateRecordAt
	// sortedFields are the fields sorted by name (Row.Set's order of guesses).
	sortedFields []*Field
}

// Field is the standard of one field of a dataset.
type Field struct {
	Name        string   `yaml:"name"`
	Label       string   `yaml:"label"`
	Type        string   `yaml:"type"`
	Required    bool     `yaml:"required"`
	Format      string   `yaml:"format"`
	CodeTable   string   `yaml:"code_table"`
	MaxLength   int      `yaml:"max_length"`   // in characters; 0 = no limit
	Min         *float64 `yaml:"min"`          // int and decimal only
	Max         *float64 `yaml:"max"`          // int and decimal only
	RegionLevel string   `yaml:"region_level"` // region_code only: city, district, street or community
	DerivedFrom string   `yaml:"derived_from"` // "<id_card field>.birth_date" or ".gender"
	Sensitivity string   `yaml:"sensitivity"`
	Description string   `yaml:"description"`

	table *CodeTable
	index int // position in Dataset.Fields
	// derivedSrc is the position of the field a derived field derives from, derivedGender whether
	// it takes the gender (else the birth date); set for the fields in Dataset.derived.
	derivedSrc    int
	derivedGender bool
	sortedPos     int // position in Dataset.sortedFields
}

// CodeTable is a code list (代码表).
type CodeTable struct {
	Name        string `yaml:"table"`
	Label       string `yaml:"label"`
	Version     int    `yaml:"version"`
	Source      string `yaml:"source"` // the national standard it follows, or "CityPulse local"
	Description string `yaml:"description"`
	Codes       []Code `yaml:"codes"`

	file   string
	lookup map[string]string // code, label, alias and their lower-case forms → code
}

// Code is one entry of a code table.
type Code struct {
	Code    string   `yaml:"code"`
	Label   string   `yaml:"label"`
	Aliases []string `yaml:"aliases"`
}

// Load loads and checks the embedded standard.
func Load() (*Standard, error) {
	return LoadFS(embedded)
}

// LoadFS loads and checks a standard from fsys, which holds datasets/*.yaml and codetables/*.yaml.
func LoadFS(fsys fs.FS) (*Standard, error) {
	regions, err := validate.LoadRegions()
	if err != nil {
		return nil, fmt.Errorf("load standard: %w", err)
	}
	s := &Standard{datasets: map[string]*Dataset{}, tables: map[string]*CodeTable{}, regions: regions}
	h := sha256.New()
	var errs []error
	for _, dir := range []string{"codetables", "datasets"} {
		names, err := fs.Glob(fsys, dir+"/*.yaml")
		if err != nil {
			return nil, fmt.Errorf("load standard: %w", err)
		}
		for _, name := range names { // fs.Glob returns sorted names
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("load standard: %w", err)
			}
			fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
			h.Write(b)
			if dir == "codetables" {
				t := &CodeTable{file: name}
				if err := decodeStrict(name, b, t); err != nil {
					errs = append(errs, err)
					continue
				}
				s.tables[strings.TrimSuffix(path.Base(name), ".yaml")] = t
			} else {
				d := &Dataset{file: name, regions: regions}
				if err := decodeStrict(name, b, d); err != nil {
					errs = append(errs, err)
					continue
				}
				s.datasets[strings.TrimSuffix(path.Base(name), ".yaml")] = d
			}
		}
	}
	if len(errs) == 0 {
		errs = s.check()
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load standard: %w", errors.Join(errs...))
	}
	s.digest = hex.EncodeToString(h.Sum(nil))[:16]
	return s, nil
}

// decodeStrict decodes exactly one YAML document into v, rejecting unknown keys.
func decodeStrict(name string, b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty file", name)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: more than one YAML document", name)
	}
	return nil
}

// Digest identifies the exact content of the standard (16 hex digits of a SHA-256 over every file):
// feed batch manifests record it next to the dataset's version.
func (s *Standard) Digest() string { return s.digest }

// Dataset returns the standard of the named dataset.
func (s *Standard) Dataset(name string) (*Dataset, bool) {
	d, ok := s.datasets[name]
	return d, ok
}

// Datasets returns the dataset names, sorted.
func (s *Standard) Datasets() []string { return sortedKeys(s.datasets) }

// CodeTable returns the named code table.
func (s *Standard) CodeTable(name string) (*CodeTable, bool) {
	t, ok := s.tables[name]
	return t, ok
}

// CodeTables returns the code table names, sorted.
func (s *Standard) CodeTables() []string { return sortedKeys(s.tables) }

// Regions returns the region index the region_code fields are checked against, for resolving a
// normalised region code to its four levels.
func (s *Standard) Regions() *validate.Regions { return s.regions }

// Field returns the named field of the dataset.
func (d *Dataset) Field(name string) (*Field, bool) {
	f, ok := d.byName[name]
	return f, ok
}

// Lookup maps a code, label or alias (exact, or case-insensitive for Latin letters) to its code.
func (t *CodeTable) Lookup(v string) (string, bool) {
	if c, ok := t.lookup[v]; ok {
		return c, true
	}
	c, ok := t.lookup[strings.ToLower(v)]
	return c, ok
}

// LabelOf returns the label of a code.
func (t *CodeTable) LabelOf(code string) (string, bool) {
	for _, c := range t.Codes {
		if c.Code == code {
			return c.Label, true
		}
	}
	return "", false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
