package community

import (
	"fmt"
	"strings"

	"github.com/citypulse/citypulse/warehouse/standard"
	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// Kind is the kind of a planted defect. Kind names are stable: the ground truth file uses them.
type Kind string

// Kinds of planted defects, and KindDirty, which is not one.
const (
	KindIDChecksum      Kind = "id_checksum"      // resident ID with a wrong check character
	KindIDBirthDate     Kind = "id_birth_date"    // resident ID whose birth date does not exist or is in the future
	KindUSCCCheck       Kind = "uscc_check"       // unified social credit code with a wrong check character or a letter it may not hold
	KindMobileFormat    Kind = "mobile_format"    // malformed mobile number (digit dropped, landline, letter O for 0 …)
	KindMissingRequired Kind = "missing_required" // a required field left empty or blank
	KindBadDate         Kind = "bad_date"         // a date or date-time that does not exist or is in no accepted layout
	KindUnknownCode     Kind = "unknown_code"     // a value that is no code, label or alias of the field's code table
	KindUnknownRegion   Kind = "unknown_region"   // a region code that is no community of the city (or a street's)
	KindDuplicatePerson Kind = "duplicate_person" // the same person from a second source, formatted differently
	KindStaleAddress    Kind = "stale_address"    // a person's address is a house they moved out of, per person_house
	KindDirty           Kind = "dirty"            // not a defect: full-width digits or stray spaces the cleaning fixes
)

// kindOrder is the order kinds are considered in (it fixes the random draws).
var kindOrder = []Kind{KindIDChecksum, KindIDBirthDate, KindUSCCCheck, KindMobileFormat, KindMissingRequired,
	KindBadDate, KindUnknownCode, KindUnknownRegion, KindDuplicatePerson, KindStaleAddress}

// IsDefect reports whether the kind is a defect (every kind but KindDirty).
func (k Kind) IsDefect() bool { return k != KindDirty }

// plan is what may be planted in one dataset, derived from its standard.
type plan struct {
	kinds  []Kind
	fields map[Kind][]string // candidate fields per kind, in the standard's order
	table  map[string]string // code field → code table
	typ    map[string]string // field → standard type
	dirt   []string          // fields that may be made dirty, as style:field
}

// newPlans derives the plans of every generated dataset from the standard: required fields may
// go missing, id_card/uscc/mobile/region_code fields get their format's defects, code fields
// unknown codes, date and date-time fields bad dates; strings, dates and date-times (not codes,
// numbers or booleans) may be made dirty.
func newPlans(std *standard.Standard) (map[string]*plan, error) {
	plans := map[string]*plan{}
	for _, name := range Datasets() {
		ds, ok := std.Dataset(name)
		if !ok {
			return nil, fmt.Errorf("community generator: dataset %s is not in the standard", name)
		}
		p := &plan{fields: map[Kind][]string{}, table: map[string]string{}, typ: map[string]string{}}
		add := func(k Kind, f string) { p.fields[k] = append(p.fields[k], f) }
		for _, f := range ds.Fields {
			p.typ[f.Name] = f.Type
			if f.Required {
				add(KindMissingRequired, f.Name)
			}
			style := ""
			switch f.Format {
			case standard.FormatIDCard:
				add(KindIDChecksum, f.Name)
				add(KindIDBirthDate, f.Name)
				style = "digits"
			case standard.FormatUSCC:
				add(KindUSCCCheck, f.Name)
				style = "digits"
			case standard.FormatMobile:
				add(KindMobileFormat, f.Name)
				style = "mobile"
			case standard.FormatRegionCode:
				add(KindUnknownRegion, f.Name)
				style = "digits"
			}
			switch f.Type {
			case standard.TypeCode:
				add(KindUnknownCode, f.Name)
				p.table[f.Name] = f.CodeTable
				if len(unknownCodes[f.CodeTable]) == 0 {
					return nil, fmt.Errorf("community generator: no unknown values for code table %s", f.CodeTable)
				}
			case standard.TypeDate, standard.TypeDateTime:
				add(KindBadDate, f.Name)
				style = "date"
			case standard.TypeString:
				if style == "" {
					style = "text"
				}
			}
			if style != "" {
				p.dirt = append(p.dirt, style+":"+f.Name)
			}
		}
		if name == DatasetPerson {
			add(KindDuplicatePerson, "id_card")
			add(KindStaleAddress, "address")
		}
		for _, k := range kindOrder {
			if len(p.fields[k]) > 0 {
				p.kinds = append(p.kinds, k)
			}
		}
		plans[name] = p
	}
	return plans, nil
}

// Kinds lists the defect kinds that may be planted in a dataset.
func Kinds(dataset string) []Kind {
	std, err := standard.Load()
	if err != nil {
		return nil
	}
	plans, err := newPlans(std)
	if err != nil || plans[dataset] == nil {
		return nil
	}
	return append([]Kind(nil), plans[dataset].kinds...)
}

// plantCtx is the row a defect may be planted in, with what the planter needs to know of it.
type plantCtx struct {
	key   Key
	row   map[string]string
	comm  int    // the community of the record (unknown regions are made in its street)
	prev  *house // person: the house they moved out of (stale addresses), if any
	dupOK bool   // person: a second source may re-send it (duplicates)
}

// needsValue are the kinds that spoil an existing value.
var needsValue = map[Kind]bool{KindIDChecksum: true, KindIDBirthDate: true, KindUSCCCheck: true, KindMobileFormat: true, KindMissingRequired: true}

// defect plants one defect with probability DefectRate and returns it. KindDuplicatePerson is
// only chosen, not applied: the caller writes the duplicate. The zero Defect means none.
func (g *gen) defect(pc plantCtx) Defect {
	r := g.rng
	if g.cfg.DefectRate == 0 || r.Float64() >= g.cfg.DefectRate || (g.plantIn != nil && !g.plantIn[pc.key.Dataset]) {
		return Defect{}
	}
	p := g.plans[pc.key.Dataset]
	var kinds []Kind
	for _, k := range p.kinds {
		switch {
		case k == KindDuplicatePerson && !pc.dupOK, k == KindStaleAddress && pc.prev == nil:
			continue
		case needsValue[k] && len(nonEmpty(pc.row, p.fields[k])) == 0:
			continue
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return Defect{}
	}
	kind := kinds[r.IntN(len(kinds))]
	if pc.prev != nil && r.IntN(2) == 0 {
		kind = KindStaleAddress // the commonest defect of people who moved: half of theirs
	}
	cand := p.fields[kind]
	if needsValue[kind] {
		cand = nonEmpty(pc.row, cand)
	}
	d := Defect{Key: pc.key, Kind: kind, Field: cand[r.IntN(len(cand))], Action: ActionQuarantine}
	v := pc.row[d.Field]
	set := func(s, variant, code, detail string) {
		pc.row[d.Field], d.Variant, d.Code, d.Detail = s, variant, code, detail
	}
	switch kind {
	case KindIDChecksum:
		set(withBadCheck(v, r.IntN(11)), "wrong check character", standard.CodeFormat, validate.KindChecksum)
	case KindIDBirthDate:
		i := r.IntN(len(badBirthDates))
		detail := validate.KindDate
		if i == len(badBirthDates)-1 {
			detail = validate.KindFuture
		}
		set(withBadBirthDate(v, i), []string{"30 February", "month 13", "day 0", "31 June", "future"}[i], standard.CodeFormat, detail)
	case KindUSCCCheck:
		s, variant := withBadUSCC(v, r.IntN(2), r.IntN(31))
		detail := validate.KindChecksum
		if variant != "wrong check character" {
			detail = validate.KindCharset
		}
		set(s, variant, standard.CodeFormat, detail)
	case KindMobileFormat:
		b := badMobiles[r.IntN(len(badMobiles))]
		set(b.f(v, g.city.code), b.variant, standard.CodeFormat, b.detail)
	case KindMissingRequired:
		if r.IntN(3) == 0 {
			set("\u3000 ", "blank (spaces only)", standard.CodeRequired, "")
		} else {
			set("", "empty", standard.CodeRequired, "")
		}
	case KindBadDate:
		s, variant := badDate(v, p.typ[d.Field] == standard.TypeDateTime, r.IntN(5), g.asOf.Year())
		set(s, variant, standard.CodeFormat, validate.KindDate)
	case KindUnknownCode:
		vals := unknownCodes[p.table[d.Field]]
		set(vals[r.IntN(len(vals))], "not in "+p.table[d.Field], standard.CodeCodeTable, "")
	case KindUnknownRegion:
		if r.IntN(3) == 0 {
			set(g.city.comms[pc.comm].code[:9]+"000", "a street's code", standard.CodeFormat, validate.KindLevel)
		} else {
			set(g.city.unknownCommunity(pc.comm, r), "no such community", standard.CodeFormat, validate.KindUnknown)
		}
	case KindDuplicatePerson:
		variants := []string{dupSpaced}
		if legacy15(v) != "" {
			variants = append(variants, dupLegacy, dupLegacy)
		}
		if strings.HasSuffix(v, "X") {
			variants = append(variants, dupLowerX)
		}
		d.Variant, d.Action = variants[r.IntN(len(variants))], ActionCollapse
	case KindStaleAddress:
		d.Action, d.Variant = ActionReport, "address of the house moved out of"
		d.Current = &Place{RegionCode: pc.row["region_code"], Address: pc.row["address"]}
		pc.row["region_code"], pc.row["address"] = g.city.comms[pc.prev.comm].code, pc.prev.address
	}
	return d
}

func nonEmpty(row map[string]string, names []string) []string {
	var out []string
	for _, f := range names {
		if row[f] != "" {
			out = append(out, f)
		}
	}
	return out
}

// badMobiles turn a valid mobile number into a malformed one; detail is the validator's kind.
var badMobiles = []struct {
	variant, detail string
	f               func(m, city string) string
}{
	{"digit dropped", validate.KindLength, func(m, _ string) string { return m[:5] + m[6:] }},
	{"digit doubled", validate.KindLength, func(m, _ string) string { return m[:7] + m[6:] }},
	{"landline", validate.KindPrefix, func(m, city string) string {
		if strings.HasPrefix(city, "4110") {
			return "0374-" + m[4:]
		}
		return "028-" + m[3:]
	}},
	{"letter O for 0", validate.KindCharset, func(m, _ string) string { return m[:3] + "O" + m[4:] }},
	{"prefix 12", validate.KindPrefix, func(m, _ string) string { return "12" + m[2:] }},
}

// badDate returns a date (or date-time) in the year of v that does not exist or is in no
// accepted layout.
func badDate(v string, datetime bool, variant, fallbackYear int) (string, string) {
	y := fallbackYear
	if len(v) >= 4 && strings.Trim(v[:4], "0123456789") == "" {
		fmt.Sscan(v[:4], &y)
	}
	clock := ""
	if datetime {
		clock = " 10:30:00"
	}
	switch variant {
	case 0:
		return fmt.Sprintf("%04d-02-30", y) + clock, "30 February"
	case 1:
		return fmt.Sprintf("%04d-13-05", y) + clock, "month 13"
	case 2:
		return fmt.Sprintf("05/03/%04d", y) + clock, "day first"
	case 3:
		if datetime {
			return fmt.Sprintf("%04d-06-15 25:10:00", y), "hour 25"
		}
		return fmt.Sprintf("%d", 45000+y%100*3), "spreadsheet serial number"
	}
	return fmt.Sprintf("%02d-3-5", y%100), "two-digit year"
}
