package community

import (
	"strconv"
	"strings"
	"time"
)

// Labels used by the sources that send labels instead of codes.
var (
	maritalLabels   = map[string]string{"10": "未婚", "20": "已婚", "30": "丧偶", "40": "离婚"}
	residenceLabels = map[string]string{"1": "户籍人口", "2": "流动人口", "4": "人户分离"}
)

// DefaultRename maps, per source and dataset, the standard's field names to the source's own
// column names (Sources' Rename; the community office uses the standard's names).
func DefaultRename() map[string]map[string]map[string]string {
	out := map[string]map[string]map[string]string{}
	for _, s := range Sources() {
		for _, d := range s.Datasets {
			if d.Rename == nil {
				continue
			}
			if out[s.ID] == nil {
				out[s.ID] = map[string]map[string]string{}
			}
			out[s.ID][d.Dataset] = d.Rename
		}
	}
	return out
}

// emitHouse writes a house as the community office reports it.
func (g *gen) emitHouse(h *house) {
	row := map[string]string{
		"region_code": g.city.comms[h.comm].code, "address": h.address, "house_no": h.houseNo,
		"compound": h.cp.name, "building": h.building, "unit": h.unit, "floor": strconv.Itoa(h.floor),
		"room": h.room, "use": h.use, "status": h.status, "area": "", "owner_id_card": h.owner,
		"built_year": strconv.Itoa(h.cp.built),
	}
	if h.area > 0 {
		row["area"] = strconv.FormatFloat(h.area, 'f', -1, 64)
	}
	g.stats.Houses++
	g.emit(SourceCommunity, DatasetHouse, row, plantCtx{comm: h.comm})
}

// emitPerson writes a person: by the community office (and, for a planted duplicate, again by
// the police in its own formatting), or by the police alone. prev is the house the person moved
// out of, if any (stale addresses point there).
func (g *gen) emitPerson(p *person, prev *house) {
	if g.rng.Float64() < PoliceOnlyShare {
		g.emit(SourcePolice, DatasetPerson, g.policeRow(p, ""), plantCtx{comm: p.comm, prev: prev})
		return
	}
	d := g.emit(SourceCommunity, DatasetPerson, g.communityRow(p), plantCtx{comm: p.comm, prev: prev, dupOK: true})
	if d.Kind != KindDuplicatePerson || g.err != nil {
		return
	}
	id := [2]string{SourcePolice, DatasetPerson}
	g.rows[id]++
	k := Key{Source: SourcePolice, Dataset: DatasetPerson, Row: g.rows[id]}
	g.stats.Rows++
	if err := g.out.write(k, g.policeRow(p, d.Variant)); err != nil {
		g.err = err
		return
	}
	orig := d.Key
	d.Key, d.Of = k, &orig
	g.record(d)
}

// emitRelation writes a person–house relation as the community office reports it (like all its
// values, in the form the standard normalises to: true/false, not 1/0).
func (g *gen) emitRelation(rel relation) {
	row := map[string]string{
		"id_card": rel.p.id, "region_code": g.city.comms[rel.h.comm].code, "address": rel.h.address,
		"relation": rel.kind, "is_householder": strconv.FormatBool(rel.head), "move_in_date": rel.in.Format(time.DateOnly), "move_out_date": "",
	}
	if !rel.out.IsZero() {
		row["move_out_date"] = rel.out.Format(time.DateOnly)
	}
	g.emit(SourceCommunity, DatasetPersonHouse, row, plantCtx{comm: rel.h.comm})
}

// communityRow is a person as a community office reports it: codes, ISO dates, gender and birth
// date sometimes left for the ID number to fill.
func (g *gen) communityRow(p *person) map[string]string {
	row := g.personRow(p)
	row["gender"], row["birth_date"] = "2", p.birth.Format(time.DateOnly)
	if p.male {
		row["gender"] = "1"
	}
	if g.rng.Float64() < 0.3 {
		row["gender"], row["birth_date"] = "", ""
	}
	row["ethnicity"] = ethnicities[p.ethnicity].code
	row["marital_status"] = p.marital
	row["residence_status"] = p.residence
	row["registered_at"] = p.registered.Format(time.DateTime)
	return row
}

// Variants of a duplicate person's ID number as the police re-sends it.
const (
	dupLegacy = "15-digit legacy ID"
	dupSpaced = "spaced ID"
	dupLowerX = "lower-case x"
)

// policeRow is a person as the household register reports them: labels, YYYYMMDD dates, slashed
// date-times. A duplicate (dup names the ID variant) spaces the name, re-formats the ID as dup
// says and prefixes the phone with +86.
func (g *gen) policeRow(p *person, dup string) map[string]string {
	row := g.personRow(p)
	row["gender"] = "女"
	if p.male {
		row["gender"] = "男"
	}
	row["birth_date"] = p.birth.Format("20060102")
	row["ethnicity"] = ethnicities[p.ethnicity].label
	row["marital_status"] = maritalLabels[p.marital]
	row["residence_status"] = residenceLabels[p.residence]
	row["registered_at"] = p.registered.Format("2006/01/02 15:04:05")
	if dup == "" {
		return row
	}
	n := []rune(p.name)
	row["name"] = string(n[:1]) + " " + string(n[1:])
	switch dup {
	case dupLegacy:
		row["id_card"] = legacy15(p.id)
	case dupLowerX:
		row["id_card"] = strings.ToLower(p.id)
	default:
		row["id_card"] = p.id[:6] + " " + p.id[6:14] + " " + p.id[14:]
	}
	if p.mobile != "" {
		row["mobile"] = "+86 " + p.mobile
	}
	return row
}

// personRow holds the fields every source reports alike.
func (g *gen) personRow(p *person) map[string]string {
	return map[string]string{
		"id_card": p.id, "name": p.name, "mobile": p.mobile, "region_code": g.city.comms[p.comm].code,
		"address": p.house.address, "hukou_address": p.hukou,
	}
}
