package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// worldSeed seeds the city's fixed features (service popularity order, district tilts, community
// sizes). It is not Config.Seed: every simulation of a city sees the same city; the seed changes
// the residents and what they do.
const worldSeed = 0x5ca1ab1e

// world is the simulated city: where people live and which services they tend to use.
type world struct {
	districts   []district
	communities []community
	homes       table // residents' home community, weighted by tier density × community size

	services   []dimdata.Service
	categories []string // category names, sorted
	svcCat     []int    // category index of each service
	popularity []float64
	// choice[d][w] picks a service for a resident of district d on a weekday (w=0) or weekend
	// (w=1); inCategory[c] picks a service of category c by popularity.
	choice     [][2]table
	inCategory []table
	weekend    []float64 // weekend factor by category index
	catWeight  []float64 // summed popularity by category index
	favourite  []table   // favourite category draw, by age group index
	hours      [2]table  // session start hour on weekdays and weekends
}

type district struct {
	code, name string
	tier       tier
	activity   float64
}

type community struct {
	code     string
	district int
}

// table samples an index with probability proportional to its weight.
type table struct {
	cum []float64
	idx []int
}

func (t *table) add(i int, w float64) {
	if w <= 0 {
		return
	}
	prev := 0.0
	if n := len(t.cum); n > 0 {
		prev = t.cum[n-1]
	}
	t.cum = append(t.cum, prev+w)
	t.idx = append(t.idx, i)
}

func (t *table) sample(r *rand.Rand) int {
	u := r.Float64() * t.cum[len(t.cum)-1]
	j := sort.SearchFloat64s(t.cum, u)
	if j >= len(t.idx) { // u == total after rounding
		j = len(t.idx) - 1
	}
	return t.idx[j]
}

func tableOf(weights []float64) table {
	var t table
	for i, w := range weights {
		t.add(i, w)
	}
	return t
}

// tierOf classifies a district by the last two digits of its 6-digit prefix (01–20 市辖区, 21–69
// 县, 70–79 development zones, 81–99 县级市) and its name.
func tierOf(code, name string) tier {
	n, err := strconv.Atoi(code[4:6])
	switch {
	case err != nil:
		return tierSuburban
	case n <= 11 && strings.HasSuffix(name, "区"):
		return tierCore
	case n <= 20 || (n >= 70 && n < 80):
		return tierSuburban
	case n >= 80:
		return tierCountyCity
	}
	return tierCounty
}

func newWorld(regions []dimdata.Region, services []dimdata.Service) (*world, error) {
	w := &world{services: services}
	byCode := map[string]int{}
	for _, r := range regions {
		if r.Level != dimdata.LevelDistrict {
			continue
		}
		t := tierOf(r.Code, r.Name)
		byCode[dimdata.Prefix(r.Code, dimdata.LevelDistrict)] = len(w.districts)
		w.districts = append(w.districts, district{code: r.Code, name: r.Name, tier: t, activity: tierParams[t].activity})
	}
	for _, r := range regions {
		if r.Level != dimdata.LevelCommunity {
			continue
		}
		d, ok := byCode[dimdata.Prefix(r.Code, dimdata.LevelDistrict)]
		if !ok {
			return nil, fmt.Errorf("community %s: no district %s in the region data", r.Code, dimdata.Prefix(r.Code, dimdata.LevelDistrict))
		}
		// Community sizes vary log-normally around the tier's density.
		cr := rand.New(rand.NewPCG(worldSeed, strHash(r.Code)))
		size := tierParams[w.districts[d].tier].density * math.Exp(0.5*cr.NormFloat64())
		w.homes.add(len(w.communities), size)
		w.communities = append(w.communities, community{code: r.Code, district: d})
	}
	if len(w.communities) == 0 {
		return nil, fmt.Errorf("region data has no communities")
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("service catalogue is empty")
	}
	w.buildServices()
	for k := range w.hours {
		w.hours[k] = tableOf(hourProfile[k][:])
	}
	return w, nil
}

// buildServices ranks the services (category base × a fixed random draw), gives rank k the weight
// k^-ZipfExponent, and builds the per-district, per-day-kind choice tables.
func (w *world) buildServices() {
	catIndex := map[string]int{}
	for _, s := range w.services {
		if _, ok := catIndex[s.Category]; !ok {
			catIndex[s.Category] = 0
			w.categories = append(w.categories, s.Category)
		}
	}
	sort.Strings(w.categories)
	for i, c := range w.categories {
		catIndex[c] = i
	}
	w.weekend = make([]float64, len(w.categories))
	for i, c := range w.categories {
		w.weekend[i] = 1
		if p, ok := categoryParams[c]; ok {
			w.weekend[i] = p.weekend
		}
	}

	n := len(w.services)
	w.svcCat = make([]int, n)
	score := make([]float64, n)
	rank := make([]int, n)
	for i, s := range w.services {
		w.svcCat[i] = catIndex[s.Category]
		base := 1.0
		if p, ok := categoryParams[s.Category]; ok {
			base = p.base
		}
		r := rand.New(rand.NewPCG(worldSeed, uint64(s.ID)))
		score[i] = base * r.Float64()
		rank[i] = i
	}
	sort.SliceStable(rank, func(a, b int) bool { return score[rank[a]] > score[rank[b]] })
	w.popularity = make([]float64, n)
	for k, i := range rank {
		w.popularity[i] = math.Pow(float64(k+1), -ZipfExponent)
	}

	w.catWeight = make([]float64, len(w.categories))
	w.inCategory = make([]table, len(w.categories))
	for i := range w.services {
		c := w.svcCat[i]
		w.catWeight[c] += w.popularity[i]
		w.inCategory[c].add(i, w.popularity[i])
	}

	w.choice = make([][2]table, len(w.districts))
	for d, dist := range w.districts {
		// Each district tilts its tier's tilt a little more, by a fixed draw per category.
		dr := rand.New(rand.NewPCG(worldSeed, strHash(dist.code)))
		tilt := make([]float64, len(w.categories))
		for c, name := range w.categories {
			tilt[c] = 0.8 + 0.45*dr.Float64()
			if t, ok := tierParams[dist.tier].tilt[name]; ok {
				tilt[c] *= t
			}
		}
		for i := range w.services {
			c := w.svcCat[i]
			wd := w.popularity[i] * tilt[c]
			w.choice[d][0].add(i, wd)
			w.choice[d][1].add(i, wd*w.weekend[c])
		}
	}
	for age := range ageGroups {
		w.favourite = append(w.favourite, tableOf(w.favouriteWeights(age)))
	}
}

// favouriteWeights returns the weights for drawing a resident's favourite categories at an age.
func (w *world) favouriteWeights(age int) []float64 {
	out := make([]float64, len(w.categories))
	for c, name := range w.categories {
		out[c] = w.catWeight[c]
		if t, ok := ageFavouriteTilt[age][name]; ok {
			out[c] *= t
		}
	}
	return out
}
