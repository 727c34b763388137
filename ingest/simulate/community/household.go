package community

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// person is one generated resident, alive only while their household is written.
type person struct {
	id, name   string
	male       bool
	birth      time.Time
	ethnicity  int    // index into ethnicities
	marital    string // marital_status code
	mobile     string
	residence  string // residence_status code
	comm       int
	house      *house
	hukou      string
	registered time.Time
}

type house struct {
	comm     int
	cp       *compound
	building string
	unit     string
	floor    int
	room     string
	address  string
	use      string // house_use code
	status   string // house_status code
	area     float64
	houseNo  string
	owner    string
}

// relation is a person–house relation; out is zero while the person lives there.
type relation struct {
	p       *person
	h       *house
	kind    string // residence_type code
	head    bool
	in, out time.Time
}

type compound struct {
	name, road                      string
	built                           int
	buildings, units, floors, rooms int
	used, stride, shops, offset     int
}

// householdSizes are the shares of households of 1..6 people (China's 2020 census, urban).
var householdSizes = []float64{0.25, 0.30, 0.22, 0.13, 0.07, 0.03}

// moverShare of households moved in from another house of the city; person_house keeps the
// closed relation to it, and a stale address (KindStaleAddress) is that house.
const moverShare = 0.15

// household writes one household of at most limit people in a new house of a sampled community:
// its houses, its members (community office or police, and duplicates), their person–house
// relations and their opinions, bookings and survey answers.
func (g *gen) household(limit int) {
	r := g.rng
	size := min(1+pick(r, householdSizes), limit)
	ci := g.city.sampleHome(r)
	tenure := r.Float64()
	status, kind := "1", "1" // 自住, 产权人
	switch {
	case tenure > 0.95:
		status, kind = "4", "4" // 借住
	case tenure > 0.70:
		status, kind = "2", "3" // 出租, 租户
	}
	residence := "1"
	switch u := r.Float64(); {
	case status != "1" && u < 0.65, status == "1" && u < 0.08:
		residence = "2"
	case u > 0.96:
		residence = "4"
	}
	h := g.newHouse(ci, "10", status)

	headAge := 22 + int(math.Min(66, math.Abs(r.NormFloat64()*20)+r.Float64()*20))
	head := g.newPerson(h, headAge, r.IntN(10) < 6, residence, 0)
	members := []*person{head}
	if size >= 2 && r.Float64() < 0.85 {
		age := max(20, headAge+r.IntN(9)-4)
		spouse := g.newPerson(h, age, !head.male, residence, 0)
		head.marital, spouse.marital = "20", "20"
		members = append(members, spouse)
	} else if headAge >= 30 {
		head.marital = []string{"10", "40", "30"}[r.IntN(2+b2i(headAge >= 60))]
	}
	father := head
	if !head.male && len(members) > 1 {
		father = members[1]
	}
	for len(members) < size {
		var p *person
		if headAge < 45 && len(members) >= 2 && r.Float64() < 0.3 { // a parent moves in
			p = g.newPerson(h, min(98, headAge+24+r.IntN(10)), r.IntN(2) == 0, residence, 0)
			p.marital = "30"
		} else {
			gap := 20 + r.IntN(max(1, min(16, headAge-20)))
			p = g.newPerson(h, headAge-gap, r.IntN(2) == 0, residence, []rune(father.name)[0])
		}
		members = append(members, p)
	}
	if kind == "1" {
		h.owner = head.id
	} else {
		h.owner = g.outsideOwner()
	}
	earliest := time.Date(max(h.cp.built, head.birth.Year()+18), 1, 1, 0, 0, 0, 0, chinaTime)
	headIn := g.dateBetween(earliest, g.asOf.AddDate(0, 0, -1))
	var rels []relation
	var prev *house
	var prevOut time.Time
	if r.Float64() < moverShare && headIn.Sub(earliest) > 2*365*24*time.Hour {
		pci := ci
		switch u := r.Float64(); {
		case u < 0.5:
			pci = g.city.other(ci, r)
		case u < 0.7:
			pci = g.city.sampleHome(r)
		}
		prev = g.newHouse(pci, "10", []string{"1", "2", "3"}[r.IntN(3)])
		prev.owner = g.outsideOwner()
		prevOut = headIn.AddDate(0, 0, -1-r.IntN(90))
		in := g.dateBetween(earliest, prevOut.AddDate(-1, 0, 0))
		for _, p := range members {
			if p.birth.Before(prevOut) {
				rels = append(rels, relation{p: p, h: prev, kind: "3", head: p == head, in: latest(in, p.birth), out: prevOut})
			}
		}
		g.emitHouse(prev)
	}
	g.emitHouse(h)
	for i, p := range members {
		k := kind
		if kind == "1" && i > 0 {
			k = "2"
		}
		rels = append(rels, relation{p: p, h: h, kind: k, head: i == 0, in: latest(headIn, p.birth)})
	}
	for _, p := range members {
		if prev != nil && p.birth.Before(prevOut) {
			g.emitPerson(p, prev)
		} else {
			g.emitPerson(p, nil)
		}
	}
	for _, rel := range rels {
		g.emitRelation(rel)
	}
	for _, p := range members {
		g.events(p)
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// newPerson makes a person aged age (whole years at the as-of date) living in h. surname 0
// draws one.
func (g *gen) newPerson(h *house, age int, male bool, residence string, surname rune) *person {
	r := g.rng
	days := r.IntN(365)
	if age == 0 {
		days = 1 + r.IntN(364)
	}
	y, m, d := g.asOf.AddDate(-age, 0, -days).Date()
	p := &person{male: male, birth: time.Date(y, m, d, 0, 0, 0, 0, chinaTime), residence: residence, comm: h.comm, house: h}
	region := g.city.comms[h.comm].code[:6]
	switch residence {
	case "2":
		o := migrantOrigins[r.IntN(len(migrantOrigins))]
		region, p.hukou = o.code, o.name+roadWords[r.IntN(len(roadWords))]+"路"+fmt.Sprint(1+r.IntN(300))+"号"
	case "4":
		region = g.city.district[r.IntN(len(g.city.district))]
		p.hukou = g.city.districts[region] + "派出所集体户"
	default:
		p.hukou = h.address
	}
	p.id = g.ids.next(region, p.birth, male)
	p.name = g.personName(male, surname)
	p.ethnicity = pick(r, ethnicityShares)
	p.marital = "10"
	if age >= 22 && r.Float64() < 0.7 {
		p.marital = "20"
	}
	if (age >= 14 && r.Float64() < 0.93) || (age >= 10 && r.Float64() < 0.3) {
		p.mobile = g.mobile()
	}
	p.registered = g.asOf.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
	g.stats.People++
	return p
}

// personName draws a common name; surname 0 draws the surname too.
func (g *gen) personName(male bool, surname rune) string {
	r := g.rng
	if surname == 0 {
		surname = surnames[int(float64(len(surnames))*math.Pow(r.Float64(), 1.8))]
	}
	given := givenFemale
	if male {
		given = givenMale
	}
	name := []rune{surname, given[r.IntN(len(given))]}
	if r.Float64() < 0.7 {
		if r.IntN(3) == 0 {
			name[1] = givenCommon[r.IntN(len(givenCommon))]
		}
		name = append(name, given[r.IntN(len(given))])
	}
	return string(name)
}

// mobile draws a mainland mobile number.
func (g *gen) mobile() string {
	return mobilePrefixes[g.rng.IntN(len(mobilePrefixes))] + fmt.Sprintf("%08d", g.rng.IntN(100_000_000))
}

var ethnicityShares = func() []float64 {
	s := make([]float64, len(ethnicities))
	for i, e := range ethnicities {
		s[i] = e.share
	}
	return s
}()

// outsideOwner is the ID of an owner who lives elsewhere.
func (g *gen) outsideOwner() string {
	d := g.city.district[g.rng.IntN(len(g.city.district))]
	birth := g.asOf.AddDate(-35-g.rng.IntN(40), 0, -g.rng.IntN(365))
	y, m, day := birth.Date()
	return g.ids.next(d, time.Date(y, m, day, 0, 0, 0, 0, chinaTime), g.rng.IntN(2) == 0)
}

// emptyHouse writes a vacant dwelling or a shop.
func (g *gen) emptyHouse() {
	ci := g.city.sampleHome(g.rng)
	if g.rng.Float64() < 0.5 {
		h := g.newHouse(ci, "20", "9")
		h.area = math.Round((20+g.rng.Float64()*200)*100) / 100
		g.emitHouse(h)
		return
	}
	h := g.newHouse(ci, "10", "3")
	if g.rng.Float64() < 0.8 {
		h.owner = g.outsideOwner()
	}
	g.emitHouse(h)
}

// dateBetween returns a random day in [from, to] (to when from is after to).
func (g *gen) dateBetween(from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	if days <= 0 {
		return dayOf(to)
	}
	return dayOf(from.AddDate(0, 0, g.rng.IntN(days+1)))
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
}

// pick returns an index with probability proportional to its weight.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := r.Float64() * total
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
