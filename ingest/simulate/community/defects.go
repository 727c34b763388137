package community

import (
	"strings"

	"github.com/citypulse/citypulse/warehouse/standard"
)

// Kind is the kind of a planted defect. Kind names are stable: the cleaning pipeline's quality
// flags use the same names for the kinds only it can detect.
type Kind string

// Kinds of planted defects.
const (
	KindIDChecksum      Kind = "id_checksum"      // resident ID with a wrong check character
	KindIDBirthDate     Kind = "id_birth_date"    // resident ID whose birth date does not exist or is in the future
	KindMobileFormat    Kind = "mobile_format"    // malformed mobile number (digit dropped, landline, letter O for 0 …)
	KindMissingRequired Kind = "missing_required" // a required field left empty
	KindUnknownCode     Kind = "unknown_code"     // a value that is no code, label or alias of the field's code table
	KindDuplicatePerson Kind = "duplicate_person" // the same person from a second source, formatted differently (pipeline)
	KindStaleAddress    Kind = "stale_address"    // a real community code, but not the one of the house (pipeline)
	KindDirty           Kind = "dirty"            // not a defect: full-width digits or stray spaces the validators clean
)

// ValidatorCode is the standard.FieldError code the validators report for the kind, or "" when
// field validation cannot see it (duplicates and stale addresses need the cleaning pipeline;
// dirty values are valid).
func (k Kind) ValidatorCode() string {
	switch k {
	case KindIDChecksum, KindIDBirthDate, KindMobileFormat:
		return standard.CodeFormat
	case KindMissingRequired:
		return standard.CodeRequired
	case KindUnknownCode:
		return standard.CodeCodeTable
	}
	return ""
}

// Detectable reports whether the standard's field validators detect the kind.
func (k Kind) Detectable() bool { return k.ValidatorCode() != "" }

// IsDefect reports whether the kind is a defect (every kind but KindDirty).
func (k Kind) IsDefect() bool { return k != KindDirty }

// Defect is one planted defect or dirty field.
type Defect struct {
	Key    Key
	Field  string // standard field name
	Kind   Kind
	Detail string // what was done, e.g. the bad value's variant ("30 February", "+86 and dashes")
	Of     *Key   // KindDuplicatePerson: the original record
}

// Kinds lists the defect kinds planted in a dataset.
func Kinds(dataset string) []Kind {
	switch dataset {
	case DatasetPerson:
		return []Kind{KindIDChecksum, KindIDBirthDate, KindMobileFormat, KindMissingRequired, KindUnknownCode, KindDuplicatePerson, KindStaleAddress}
	case DatasetHouse:
		return []Kind{KindIDChecksum, KindMissingRequired, KindUnknownCode}
	case DatasetPersonHouse:
		return []Kind{KindIDChecksum, KindIDBirthDate, KindMissingRequired, KindUnknownCode, KindStaleAddress}
	}
	return nil
}

// Per dataset: the field a kind is planted in (several: one is drawn).
var defectFields = map[string]map[Kind][]string{
	DatasetPerson: {
		KindIDChecksum: {"id_card"}, KindIDBirthDate: {"id_card"}, KindMobileFormat: {"mobile"},
		KindMissingRequired: {"id_card", "name", "residence_status", "region_code"},
		KindUnknownCode:     {"ethnicity", "marital_status", "residence_status"},
		KindDuplicatePerson: {"id_card"}, KindStaleAddress: {"region_code"},
	},
	DatasetHouse: {
		KindIDChecksum: {"owner_id_card"}, KindMissingRequired: {"region_code", "address", "use"},
		KindUnknownCode: {"use", "status"},
	},
	DatasetPersonHouse: {
		KindIDChecksum: {"id_card"}, KindIDBirthDate: {"id_card"},
		KindMissingRequired: {"id_card", "region_code", "address", "relation"},
		KindUnknownCode:     {"relation"}, KindStaleAddress: {"region_code"},
	},
}

// badMobiles turn a valid mobile number into a malformed one.
var badMobiles = []struct {
	detail string
	f      func(m string) string
}{
	{"digit dropped", func(m string) string { return m[:5] + m[6:] }},
	{"digit doubled", func(m string) string { return m[:7] + m[6:] }},
	{"landline", func(m string) string { return "028-" + m[3:11] }},
	{"letter O for 0", func(m string) string { return m[:3] + "O" + m[4:] }},
	{"prefix 12", func(m string) string { return "12" + m[2:] }},
}

// plantable is the row a defect may be planted in, with what the planter needs to know of it.
type plantable struct {
	key  Key
	row  map[string]string
	comm int // the community of the record's house (stale addresses)
}

// defect plants one defect with probability DefectRate and returns it. KindDuplicatePerson is
// only chosen, not applied: the caller adds the duplicate row. The zero Defect means none.
func (g *gen) defect(p plantable) Defect {
	r := g.rng
	if g.cfg.DefectRate == 0 || r.Float64() >= g.cfg.DefectRate {
		return Defect{}
	}
	var kinds []Kind
	for _, k := range Kinds(p.key.Dataset) {
		if k == KindIDChecksum || k == KindIDBirthDate {
			if p.row[defectFields[p.key.Dataset][k][0]] == "" {
				continue // no ID to spoil (a house without a known owner)
			}
		}
		kinds = append(kinds, k)
	}
	kind := kinds[r.IntN(len(kinds))]
	cand := defectFields[p.key.Dataset][kind]
	d := Defect{Key: p.key, Kind: kind, Field: cand[r.IntN(len(cand))]}
	v := p.row[d.Field]
	switch kind {
	case KindIDChecksum:
		p.row[d.Field] = withBadCheck(v, r.IntN(11))
	case KindIDBirthDate:
		i := r.IntN(len(badBirthDates))
		p.row[d.Field] = withBadBirthDate(v, i)
		d.Detail = []string{"30 February", "month 13", "day 0", "31 June", "future"}[i]
	case KindMobileFormat:
		if v == "" {
			v = mobilePrefixes[r.IntN(len(mobilePrefixes))] + "12345678"
		}
		b := badMobiles[r.IntN(len(badMobiles))]
		p.row[d.Field], d.Detail = b.f(v), b.detail
	case KindMissingRequired:
		p.row[d.Field] = ""
	case KindUnknownCode:
		vals := unknownCodes[d.Field]
		p.row[d.Field] = vals[r.IntN(len(vals))]
	case KindStaleAddress:
		p.row[d.Field] = g.city.comms[g.city.other(p.comm, r)].code
	}
	return d
}

// dirtiers make a value dirty but valid, by the kind of field.
var dirtiers = map[string]func(v string, n int) (string, string){
	"digits": func(v string, n int) (string, string) {
		switch n % 3 {
		case 0:
			return toFullWidth(v), "full-width digits"
		case 1:
			return " " + v + "\t", "surrounding whitespace"
		}
		return "\u3000" + v, "leading ideographic space"
	},
	"mobile": func(v string, n int) (string, string) {
		switch n % 3 {
		case 0:
			return toFullWidth(v), "full-width digits"
		case 1:
			return "+86 " + v[:3] + "-" + v[3:7] + "-" + v[7:], "+86 and dashes"
		}
		return v[:3] + " " + v[3:7] + " " + v[7:], "spaced groups"
	},
	"text": func(v string, n int) (string, string) {
		if n%2 == 0 {
			return "  " + v + " ", "surrounding spaces"
		}
		return toFullWidth(v) + "\u3000", "full-width digits and a trailing ideographic space"
	},
}

var dirtyFields = map[string]map[string]string{
	DatasetPerson:      {"id_card": "digits", "mobile": "mobile", "region_code": "digits", "name": "text", "address": "text", "ethnicity": "digits"},
	DatasetHouse:       {"region_code": "digits", "address": "text", "compound": "text", "owner_id_card": "digits", "use": "digits"},
	DatasetPersonHouse: {"id_card": "digits", "region_code": "digits", "address": "text", "relation": "digits"},
}

// dirty makes one non-empty field other than skip dirty with probability DirtyRate.
func (g *gen) dirty(p plantable, skip string) Defect {
	r := g.rng
	if g.cfg.DirtyRate == 0 || r.Float64() >= g.cfg.DirtyRate {
		return Defect{}
	}
	var cand []string
	for _, f := range fields[p.key.Dataset] { // the standard's order: deterministic
		if kind, ok := dirtyFields[p.key.Dataset][f]; ok && f != skip && p.row[f] != "" {
			cand = append(cand, kind+":"+f)
		}
	}
	if len(cand) == 0 {
		return Defect{}
	}
	kind, f, _ := strings.Cut(cand[r.IntN(len(cand))], ":")
	d := Defect{Key: p.key, Field: f, Kind: KindDirty}
	p.row[f], d.Detail = dirtiers[kind](p.row[f], r.IntN(6))
	return d
}

// toFullWidth turns ASCII digits and Latin letters into their full-width forms.
func toFullWidth(s string) string {
	return strings.Map(func(c rune) rune {
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			return c - '0' + '０'
		}
		return c
	}, s)
}
