package community

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// Sources of the generated feeds.
const (
	SourceCommunity = "community" // 社区采集: the community offices' own collection
	SourcePolice    = "police"    // 公安户籍: the household register, in its own style
)

// Datasets generated, as named in the data standard.
const (
	DatasetPerson      = "person"
	DatasetHouse       = "house"
	DatasetPersonHouse = "person_house"
)

// fields are the standard's fields of each generated dataset, in the standard's order
// (TestFieldsMatchStandard keeps them equal to warehouse/standard/datasets/*.yaml).
var fields = map[string][]string{
	DatasetPerson: {"id_card", "name", "gender", "birth_date", "ethnicity", "marital_status", "mobile",
		"residence_status", "region_code", "address", "hukou_address", "registered_at"},
	DatasetHouse: {"region_code", "address", "house_no", "compound", "building", "unit", "floor", "room",
		"use", "status", "area", "owner_id_card", "built_year"},
	DatasetPersonHouse: {"id_card", "region_code", "address", "relation", "is_householder", "move_in_date", "move_out_date"},
}

// Fields returns the standard's field names of a generated dataset, in the standard's order (nil
// for a dataset the generator does not produce).
func Fields(dataset string) []string { return append([]string(nil), fields[dataset]...) }

// Datasets lists the generated datasets.
func Datasets() []string { return []string{DatasetPerson, DatasetHouse, DatasetPersonHouse} }

// PoliceOnlyShare of people are missed by the community offices and reported only by the police
// source.
const PoliceOnlyShare = 0.08

// Key names one generated record: its source, dataset and 0-based row in that source's batch.
type Key struct {
	Source  string
	Dataset string
	Row     int
}

func (k Key) String() string { return fmt.Sprintf("%s/%s#%d", k.Source, k.Dataset, k.Row) }

// Batch is one source's records of one dataset, keyed by the standard's field names. Every row
// has every field of the dataset; an empty value means the source left it empty.
type Batch struct {
	Source  string
	Dataset string
	Rows    []map[string]string
}

// Result is a generated city.
type Result struct {
	AsOf    time.Time // pass to ValidateRecordAt: ages and dates are relative to it
	Batches []Batch   // sorted by source, then dataset
	Defects []Defect  // planted defects and dirty fields, in generation order
	People  int       // distinct people (a duplicate counts once)
	Houses  int
}

// Batch returns the batch of a source and dataset, or nil.
func (r *Result) Batch(source, dataset string) *Batch {
	for i := range r.Batches {
		if r.Batches[i].Source == source && r.Batches[i].Dataset == dataset {
			return &r.Batches[i]
		}
	}
	return nil
}

// Record returns the record a key names, or nil.
func (r *Result) Record(k Key) map[string]string {
	b := r.Batch(k.Source, k.Dataset)
	if b == nil || k.Row < 0 || k.Row >= len(b.Rows) {
		return nil
	}
	return b.Rows[k.Row]
}

// Generate generates the community datasets of cfg's city.
func Generate(cfg Config) (*Result, error) {
	asOf, people, err := cfg.validate(time.Now())
	if err != nil {
		return nil, err
	}
	c, err := newCity(cfg.CityCode)
	if err != nil {
		return nil, err
	}
	g := &gen{
		cfg:  cfg,
		asOf: asOf,
		city: c,
		rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x636f6d6d756e6974)),
		used: make(map[string]struct{}, people),
	}
	for len(g.people) < people {
		g.household(people - len(g.people))
	}
	for i, n := 0, len(g.houses)/9; i < n; i++ { // about 10% of houses are vacant or commercial
		g.emptyHouse()
	}
	return g.render(), nil
}

// city is the region data of one city.
type city struct {
	districts map[string]string // 6-digit prefix → name
	streets   map[string]string // 9-digit prefix → name
	comms     []*comm
	byStreet  map[string][]int // 9-digit prefix → community indexes
	district  []string         // district prefixes, sorted
	homes     []float64        // cumulative community weights
}

type comm struct {
	code, name string
	compounds  []*compound
	names      map[string]bool // compound names in use
}

func newCity(code string) (*city, error) {
	regions, err := dimdata.Regions(code)
	if err != nil {
		return nil, fmt.Errorf("community generator: %w", err)
	}
	c := &city{districts: map[string]string{}, streets: map[string]string{}, byStreet: map[string][]int{}}
	total := 0.0
	for _, r := range regions {
		switch r.Level {
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

// other returns a community other than i, in the same street when there is one (a stale address
// is usually a neighbouring community's code).
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
