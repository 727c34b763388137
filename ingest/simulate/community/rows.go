package community

import (
	"strconv"
	"strings"
	"time"
)

// Labels used by the police source, which sends labels instead of codes.
var (
	maritalLabels   = map[string]string{"10": "未婚", "20": "已婚", "30": "丧偶", "40": "离婚"}
	residenceLabels = map[string]string{"1": "户籍人口", "2": "流动人口", "4": "人户分离"}
)

// DefaultRename maps, per source and dataset, the standard's field names to the source's own
// column names. The community source uses the standard's names; the police source its own.
func DefaultRename() map[string]map[string]map[string]string {
	return map[string]map[string]map[string]string{
		SourcePolice: {DatasetPerson: {
			"id_card": "公民身份号码", "name": "姓名", "gender": "性别", "birth_date": "出生日期", "ethnicity": "民族",
			"marital_status": "婚姻状况", "mobile": "联系电话", "residence_status": "人口类型", "region_code": "所属社区代码",
			"address": "现住址", "hukou_address": "户籍地址", "registered_at": "登记时间",
		}},
	}
}

// render turns the generated city into the sources' batches and plants the defects.
func (g *gen) render() *Result {
	res := &Result{AsOf: g.asOf, People: len(g.people), Houses: len(g.houses)}
	cp := &Batch{Source: SourceCommunity, Dataset: DatasetPerson}
	ch := &Batch{Source: SourceCommunity, Dataset: DatasetHouse}
	cr := &Batch{Source: SourceCommunity, Dataset: DatasetPersonHouse}
	pp := &Batch{Source: SourcePolice, Dataset: DatasetPerson}
	add := func(b *Batch, row map[string]string, comm int) Defect {
		p := plantable{key: Key{b.Source, b.Dataset, len(b.Rows)}, row: row, comm: comm}
		d := g.defect(p)
		if d.Kind != "" && d.Kind != KindDuplicatePerson {
			res.Defects = append(res.Defects, d)
		}
		if dd := g.dirty(p, d.Field); dd.Kind != "" {
			res.Defects = append(res.Defects, dd)
		}
		b.Rows = append(b.Rows, row)
		return d
	}
	for _, p := range g.people {
		if g.rng.Float64() < PoliceOnlyShare {
			add(pp, g.policeRow(p, false), p.comm)
			continue
		}
		orig := Key{cp.Source, cp.Dataset, len(cp.Rows)}
		if d := add(cp, g.communityRow(p), p.comm); d.Kind == KindDuplicatePerson {
			res.Defects = append(res.Defects, Defect{Key: Key{pp.Source, pp.Dataset, len(pp.Rows)},
				Field: "id_card", Kind: KindDuplicatePerson, Detail: "re-formatted by the second source", Of: &orig})
			pp.Rows = append(pp.Rows, g.policeRow(p, true))
		}
	}
	for _, h := range g.houses {
		add(ch, g.houseRow(h), h.comm)
	}
	for _, rel := range g.rels {
		h := g.houses[rel.house]
		row := map[string]string{
			"id_card": g.people[rel.person].id, "region_code": g.city.comms[h.comm].code, "address": h.address,
			"relation": rel.kind, "is_householder": "0", "move_in_date": rel.moveIn.Format(time.DateOnly), "move_out_date": "",
		}
		if rel.head {
			row["is_householder"] = "1"
		}
		add(cr, row, h.comm)
	}
	res.Batches = []Batch{*cp, *ch, *cr, *pp}
	return res
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

// policeRow is a person as the household register reports them: labels, YYYYMMDD dates, slashed
// date-times. A duplicate spaces the name and re-formats the ID and phone.
func (g *gen) policeRow(p *person, duplicate bool) map[string]string {
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
	if duplicate {
		n := []rune(p.name)
		row["name"] = string(n[:1]) + " " + string(n[1:])
		if strings.HasSuffix(p.id, "X") {
			row["id_card"] = p.id[:17] + "x"
		} else {
			row["id_card"] = p.id[:6] + " " + p.id[6:14] + " " + p.id[14:]
		}
		if p.mobile != "" {
			row["mobile"] = "+86 " + p.mobile
		}
	}
	return row
}

// personRow holds the fields every source reports alike.
func (g *gen) personRow(p *person) map[string]string {
	return map[string]string{
		"id_card": p.id, "name": p.name, "mobile": p.mobile, "region_code": g.city.comms[p.comm].code,
		"address": g.houses[p.house].address, "hukou_address": p.hukou,
	}
}

func (g *gen) houseRow(h *house) map[string]string {
	row := map[string]string{
		"region_code": g.city.comms[h.comm].code, "address": h.address, "house_no": h.houseNo,
		"compound": h.cp.name, "building": h.building, "unit": h.unit, "floor": strconv.Itoa(h.floor),
		"room": h.room, "use": h.use, "status": h.status, "area": "", "owner_id_card": h.owner,
		"built_year": strconv.Itoa(h.cp.built),
	}
	if h.area > 0 {
		row["area"] = strconv.FormatFloat(h.area, 'f', 2, 64)
	}
	return row
}
