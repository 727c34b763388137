package community

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// city is the region data of one city with the generator's per-community state.
type city struct {
	code      string
	short     string            // 成都 (the city's name without 市)
	districts map[string]string // 6-digit prefix → name
	streets   map[string]string // 9-digit prefix → name
	comms     []*comm
	byStreet  map[string][]int // 9-digit prefix → community indexes
	district  []string         // district prefixes, sorted
	homes     []float64        // cumulative community weights
	box       [4]float64       // longitude min, max; latitude min, max
}

// comm is a community with what the generator made in it so far.
type comm struct {
	code, name string
	compounds  []*compound
	names      map[string]bool // compound names in use
	spaces     []space         // bookable rooms of the community service centre, made when first booked
	surveys    []survey        // questionnaires, made when first answered
}

// short is the community's name without its committee suffix: 崇德里社区, 大鹅村.
func (c *comm) short() string {
	for _, s := range [][2]string{{"社区居民委员会", "社区"}, {"社区居委会", "社区"}, {"居民委员会", "社区"}, {"居委会", "社区"},
		{"村民委员会", "村"}, {"村委会", "村"}} {
		if n, ok := strings.CutSuffix(c.name, s[0]); ok {
			if strings.HasSuffix(n, s[1]) {
				return n
			}
			return n + s[1]
		}
	}
	return c.name
}

// cityBoxes are rough bounding boxes (longitude, latitude) of the cities with region data.
var cityBoxes = map[string][4]float64{
	"5101": {102.99, 104.89, 30.09, 31.43},
	"4110": {113.03, 114.19, 33.70, 34.40},
}

func newCity(code string) (*city, error) {
	regions, err := dimdata.Regions(code)
	if err != nil {
		return nil, fmt.Errorf("community generator: %w", err)
	}
	c := &city{code: code, districts: map[string]string{}, streets: map[string]string{}, byStreet: map[string][]int{}}
	c.box = cityBoxes[code[:4]]
	if c.box == [4]float64{} {
		c.box = [4]float64{103, 104, 30, 31}
	}
	total := 0.0
	for _, r := range regions {
		switch r.Level {
		case dimdata.LevelCity:
			c.short = strings.TrimSuffix(r.Name, "市")
		case dimdata.LevelDistrict:
			c.districts[r.Code[:6]] = r.Name
			c.district = append(c.district, r.Code[:6])
		case dimdata.LevelStreet:
			c.streets[r.Code[:9]] = r.Name
		case dimdata.LevelCommunity:
			// Community sizes vary log-normally; the weight depends only on the code.
			h := fnv.New64a()
			h.Write([]byte(r.Code))
			total += math.Exp(0.6 * rand.New(rand.NewPCG(h.Sum64(), 1)).NormFloat64())
			c.homes = append(c.homes, total)
			c.byStreet[r.Code[:9]] = append(c.byStreet[r.Code[:9]], len(c.comms))
			c.comms = append(c.comms, &comm{code: r.Code, name: r.Name, names: map[string]bool{}})
		}
	}
	sort.Strings(c.district)
	if len(c.comms) < 2 {
		return nil, fmt.Errorf("community generator: city %s has %d communities, want at least 2", code, len(c.comms))
	}
	for _, cm := range c.comms {
		if c.districts[cm.code[:6]] == "" || c.streets[cm.code[:9]] == "" {
			return nil, fmt.Errorf("community generator: community %s has no district or street in the region data", cm.code)
		}
	}
	return c, nil
}

// sampleHome picks a community index by weight.
func (c *city) sampleHome(r *rand.Rand) int {
	u := r.Float64() * c.homes[len(c.homes)-1]
	i := sort.SearchFloat64s(c.homes, u)
	if i >= len(c.homes) {
		i = len(c.homes) - 1
	}
	return i
}

// other returns a community other than i, in the same street when there is one (people usually
// move, and stale addresses usually point, to a neighbouring community).
func (c *city) other(i int, r *rand.Rand) int {
	same := c.byStreet[c.comms[i].code[:9]]
	if len(same) > 1 {
		j := same[r.IntN(len(same)-1)]
		if j == i {
			j = same[len(same)-1]
		}
		return j
	}
	j := r.IntN(len(c.comms) - 1)
	if j >= i {
		j++
	}
	return j
}

// place is the district and street name prefix of an address in community ci.
func (c *city) place(ci int) string {
	code := c.comms[ci].code
	return c.districts[code[:6]] + c.streets[code[:9]]
}

// unknownCommunity returns a 12-digit code in the same street as community ci that is no region
// of the city (KindUnknownRegion).
func (c *city) unknownCommunity(ci int, r *rand.Rand) string {
	street := c.comms[ci].code[:9]
	known := map[string]bool{}
	for _, j := range c.byStreet[street] {
		known[c.comms[j].code] = true
	}
	for {
		code := fmt.Sprintf("%s%03d", street, 200+r.IntN(700))
		if !known[code] {
			return code
		}
	}
}
