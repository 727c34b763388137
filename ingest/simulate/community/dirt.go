package community

import "strings"

// FlagDirtyFixed is the quality flag the cleaning pipeline puts on a row whose value it fixed
// (pipelines/cleaning.FlagDirtyFixed; not imported, the pipeline depends on nothing here).
const FlagDirtyFixed = "dirty_fixed"

// dirtiers make a value dirty but valid, by style of field; they return the value and the variant.
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
		if len(v) != 11 {
			return " " + v + " ", "surrounding spaces"
		}
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
	"date": func(v string, n int) (string, string) {
		if n%2 == 0 {
			return " " + v + "  ", "surrounding spaces"
		}
		return toFullWidth(v), "full-width digits"
	},
}

// dirty makes one non-empty field other than skip dirty with probability DirtyRate.
func (g *gen) dirty(pc plantCtx, skip string) Defect {
	r := g.rng
	if g.cfg.DirtyRate == 0 || r.Float64() >= g.cfg.DirtyRate {
		return Defect{}
	}
	var cand []string
	for _, sf := range g.plans[pc.key.Dataset].dirt { // the standard's order: deterministic
		if _, f, _ := strings.Cut(sf, ":"); f != skip && pc.row[f] != "" {
			cand = append(cand, sf)
		}
	}
	if len(cand) == 0 {
		return Defect{}
	}
	style, f, _ := strings.Cut(cand[r.IntN(len(cand))], ":")
	d := Defect{Key: pc.key, Field: f, Kind: KindDirty, Action: ActionFixFlag, Flag: FlagDirtyFixed}
	pc.row[f], d.Variant = dirtiers[style](pc.row[f], r.IntN(6))
	return d
}

// toFullWidth turns ASCII digits and Latin letters into their full-width forms.
func toFullWidth(s string) string {
	return strings.Map(func(c rune) rune {
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			return c + 0xFEE0
		}
		return c
	}, s)
}
