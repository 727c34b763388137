package community

import (
	"fmt"
	"math"
	"strconv"
)

// strides spread the houses of a compound over its buildings and floors: slot k is
// k·stride mod capacity, a permutation when stride and capacity are coprime.
var strides = []int{7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43}

// newHouse makes a house of the given use and status in community ci (written by emitHouse).
func (g *gen) newHouse(ci int, use, status string) *house {
	r := g.rng
	cm := g.city.comms[ci]
	var cp *compound
	if n := len(cm.compounds); n > 0 && cm.compounds[n-1].used < cm.compounds[n-1].capacity() {
		cp = cm.compounds[n-1]
	} else {
		cp = g.newCompound(cm)
	}
	h := &house{comm: ci, cp: cp, use: use, status: status}
	prefix := g.city.place(ci) + cp.road + cp.name
	if use != "10" {
		cp.shops++
		h.building, h.floor, h.room = "底商", 1, strconv.Itoa(cp.shops)
		h.address = prefix + "底商" + h.room + "号"
	} else {
		slot := (cp.offset + cp.used*cp.stride) % cp.capacity()
		cp.used++
		room := slot % cp.rooms
		floor := slot / cp.rooms % cp.floors
		unit := slot / (cp.rooms * cp.floors) % cp.units
		building := slot / (cp.rooms * cp.floors * cp.units)
		h.building, h.unit, h.floor = strconv.Itoa(building+1), strconv.Itoa(unit+1), floor+1
		h.room = fmt.Sprintf("%d%02d", floor+1, room+1)
		h.address = prefix + h.building + "栋" + h.unit + "单元" + h.room
		h.area = math.Round((45+r.Float64()*50+math.Abs(r.NormFloat64())*30)*100) / 100
	}
	if r.Float64() < 0.6 {
		h.houseNo = fmt.Sprintf("%s%06dGB%05dF%08d", cm.code[:6], r.IntN(1_000_000), r.IntN(100_000), r.IntN(100_000_000))
	}
	return h
}

// newCompound adds a residential compound to community cm.
func (g *gen) newCompound(cm *comm) *compound {
	r := g.rng
	cp := &compound{built: 1980 + r.IntN(g.asOf.Year()-1980)}
	for k := 0; ; k++ {
		name := compoundWords[r.IntN(len(compoundWords))] + compoundSuffixes[r.IntN(len(compoundSuffixes))]
		if k > 20 {
			name += strconv.Itoa(k) + "期"
		}
		if !cm.names[name] {
			cm.names[name] = true
			cp.name = name
			break
		}
	}
	cp.road = roadWords[r.IntN(len(roadWords))] + roadSuffixes[r.IntN(len(roadSuffixes))] + strconv.Itoa(1+r.IntN(399)) + "号"
	cp.buildings, cp.units, cp.rooms = 2+r.IntN(15), 1+r.IntN(4), 2+r.IntN(3)
	if cp.built < 2000 {
		cp.floors = 5 + r.IntN(3)
	} else {
		cp.floors = 11 + r.IntN(23)
	}
	cp.stride = 1
	for _, s := range strides {
		if cp.capacity()%s != 0 {
			cp.stride = s
			break
		}
	}
	cp.offset = r.IntN(cp.capacity())
	cm.compounds = append(cm.compounds, cp)
	return cp
}

func (cp *compound) capacity() int { return cp.buildings * cp.units * cp.floors * cp.rooms }
