package community

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/citypulse/citypulse/warehouse/standard"
)

// Datasets generated, as named in the data standard.
const (
	DatasetPerson       = "person"
	DatasetHouse        = "house"
	DatasetPersonHouse  = "person_house"
	DatasetOrg          = "org"
	DatasetFacility     = "facility"
	DatasetOpinion      = "opinion"
	DatasetActivity     = "activity"
	DatasetSpaceBooking = "space_booking"
	DatasetSurvey       = "survey"
)

// fields are the standard's fields of each generated dataset, in the standard's order
// (TestFieldsMatchStandard keeps them equal to warehouse/standard/datasets/*.yaml).
var fields = map[string][]string{
	DatasetPerson: {"id_card", "name", "gender", "birth_date", "ethnicity", "marital_status", "mobile",
		"residence_status", "region_code", "address", "hukou_address", "registered_at"},
	DatasetHouse: {"region_code", "address", "house_no", "compound", "building", "unit", "floor", "room",
		"use", "status", "area", "owner_id_card", "built_year"},
	DatasetPersonHouse: {"id_card", "region_code", "address", "relation", "is_householder", "move_in_date", "move_out_date"},
	DatasetOrg: {"uscc", "name", "org_type", "status", "region_code", "address", "legal_person", "contact_mobile",
		"established_date", "employees", "industry"},
	DatasetFacility: {"facility_id", "name", "category", "status", "region_code", "address", "longitude", "latitude",
		"installed_date", "manager_uscc", "checked_at"},
	DatasetOpinion: {"opinion_id", "region_code", "category", "channel", "title", "content", "submitter_mobile",
		"submitted_at", "status", "closed_at", "satisfaction"},
	DatasetActivity: {"activity_id", "title", "category", "region_code", "organizer", "status", "start_at", "end_at",
		"capacity", "signups", "participants"},
	DatasetSpaceBooking: {"booking_id", "space_id", "space_name", "space_type", "region_code", "booker_mobile",
		"start_at", "end_at", "attendees", "status", "booked_at"},
	DatasetSurvey: {"response_id", "survey_id", "survey_title", "category", "region_code", "respondent_mobile",
		"submitted_at", "completed", "answered", "satisfaction"},
}

// Fields returns the standard's field names of a generated dataset, in the standard's order (nil
// for a dataset the generator does not produce).
func Fields(dataset string) []string { return append([]string(nil), fields[dataset]...) }

// Datasets lists the generated datasets.
func Datasets() []string {
	return []string{DatasetPerson, DatasetHouse, DatasetPersonHouse, DatasetOrg, DatasetFacility,
		DatasetOpinion, DatasetActivity, DatasetSpaceBooking, DatasetSurvey}
}

// PoliceOnlyShare of people are missed by the community offices and reported only by the police
// source.
const PoliceOnlyShare = 0.08

// Key names one generated record: its source, dataset and row, the 1-based number of the data row
// in that source's file of the dataset (the feeds gateway's row number: the header is not a row).
type Key struct {
	Source  string `json:"source"`
	Dataset string `json:"dataset"`
	Row     int    `json:"row"`
}

func (k Key) String() string { return fmt.Sprintf("%s/%s#%d", k.Source, k.Dataset, k.Row) }

// Batch is one source's records of one dataset, keyed by the standard's field names. Every row
// has every field of the dataset; an empty value means the source left it empty. Rows[i] is row
// i+1.
type Batch struct {
	Source  string
	Dataset string
	Rows    []map[string]string
}

// Result is a generated city held in memory (Generate).
type Result struct {
	AsOf    time.Time // pass to ValidateRecordAt: ages and dates are relative to it
	Batches []Batch   // one per source and dataset it sends, sorted by source, then dataset
	Defects []Defect  // planted defects and dirty fields, in generation order
	Stats   Stats
}

// Stats counts what a generation produced.
type Stats struct {
	People int // distinct people (a duplicate counts once)
	Houses int
	Rows   int // rows of every file
	// Planted counts defects by dataset, then kind (KindDirty included).
	Planted map[string]map[Kind]int
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
	if b == nil || k.Row < 1 || k.Row > len(b.Rows) {
		return nil
	}
	return b.Rows[k.Row-1]
}

// Generate generates the community datasets of cfg's city in memory (at most MaxInMemoryPeople
// people; Run streams larger cities to files). Config.Dir and the push settings are not used.
func Generate(cfg Config) (*Result, error) { return generateMem(cfg, nil) }

// generateMem is Generate with a hook to adjust the generator before it runs (tests).
func generateMem(cfg Config, edit func(*gen)) (*Result, error) {
	ms := &memSink{}
	for _, s := range Sources() {
		for _, d := range s.Datasets {
			ms.batches = append(ms.batches, Batch{Source: s.ID, Dataset: d.Dataset})
		}
	}
	g, err := newGen(cfg, ms, MaxInMemoryPeople)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(g)
	}
	if err := g.generate(context.Background(), nil); err != nil {
		return nil, err
	}
	sort.Slice(ms.batches, func(i, j int) bool {
		a, b := ms.batches[i], ms.batches[j]
		return a.Source < b.Source || (a.Source == b.Source && a.Dataset < b.Dataset)
	})
	return &Result{AsOf: g.asOf, Batches: ms.batches, Defects: ms.defects, Stats: g.stats}, nil
}

// sink receives the generated rows and defects in generation order.
type sink interface {
	write(k Key, row map[string]string) error
	defect(d Defect) error
}

// memSink keeps everything (Generate).
type memSink struct {
	batches []Batch
	defects []Defect
}

func (m *memSink) write(k Key, row map[string]string) error {
	for i := range m.batches {
		if b := &m.batches[i]; b.Source == k.Source && b.Dataset == k.Dataset {
			b.Rows = append(b.Rows, row)
			return nil
		}
	}
	return fmt.Errorf("no batch for %s/%s", k.Source, k.Dataset)
}

func (m *memSink) defect(d Defect) error { m.defects = append(m.defects, d); return nil }

// gen holds the generator's state while it runs. It keeps the region data, the compounds of each
// community, the community-level entities that people refer to (spaces, surveys, property
// companies), the ID allocator and counters; people, houses and rows are written to the sink as
// soon as they are made and then forgotten.
type gen struct {
	cfg    Config
	asOf   time.Time
	city   *city
	rng    *rand.Rand
	std    *standard.Standard
	plans  map[string]*plan
	ids    *idAllocator
	out    sink
	target int // people to generate
	rows   map[[2]string]int
	stats  Stats
	err    error // the first sink error; generation stops at it
	// plantIn, when set, limits defects to these datasets (tests that need the others clean).
	plantIn map[string]bool

	next       map[string]int      // per-dataset serial numbers of generated identifiers
	propertyCo map[string][]string // district prefix → USCCs of property-management companies
}

func newGen(cfg Config, out sink, maxPeople int) (*gen, error) {
	asOf, people, err := cfg.validate(time.Now())
	if err != nil {
		return nil, err
	}
	if maxPeople > 0 && people > maxPeople {
		return nil, fmt.Errorf("community-scale %d: %d people, at most %d in memory (raise the scale, or write files with Run)", cfg.Scale, people, maxPeople)
	}
	std, err := standard.Load()
	if err != nil {
		return nil, fmt.Errorf("community generator: %w", err)
	}
	plans, err := newPlans(std)
	if err != nil {
		return nil, err
	}
	c, err := newCity(cfg.CityCode)
	if err != nil {
		return nil, err
	}
	return &gen{
		cfg: cfg, asOf: asOf, city: c, std: std, plans: plans, out: out, target: people,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x636f6d6d756e6974)),
		ids:        newIDAllocator(asOf, uint64(cfg.Seed)),
		rows:       map[[2]string]int{},
		stats:      Stats{Planted: map[string]map[Kind]int{}},
		next:       map[string]int{},
		propertyCo: map[string][]string{},
	}, nil
}

// Per-resident yearly rates of the datasets that are not people or houses (real figures of a
// large Chinese city, rounded): about 0.18 market entities per resident, 0.02 facilities besides
// the community service centres' rooms, 0.015 community activities; opinions, bookings and
// survey answers are drawn per person (see events.go).
const (
	orgsPerResident       = 0.18
	facilitiesPerResident = 0.02
	activitiesPerResident = 0.015
	emptyHouseShare       = 1.0 / 9 // vacant dwellings and shops per household's house
)

// progressFunc is told the people generated so far and the target.
type progressFunc func(people, target int)

// generate makes the whole city: the community-level datasets first, then households one by one,
// each with its houses, relations and its members' opinions, bookings and survey answers.
func (g *gen) generate(ctx context.Context, progress progressFunc) error {
	n := float64(g.target)
	for i, k := 0, int(n*orgsPerResident+0.5); i < k && g.err == nil; i++ {
		g.org()
	}
	for i, k := 0, int(n*facilitiesPerResident+0.5); i < k && g.err == nil; i++ {
		g.facility(g.city.sampleHome(g.rng))
	}
	for i, k := 0, int(n*activitiesPerResident+0.5); i < k && g.err == nil; i++ {
		g.activity()
	}
	for households := 0; g.stats.People < g.target && g.err == nil; households++ {
		if households%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if progress != nil {
				progress(g.stats.People, g.target)
			}
		}
		g.household(g.target - g.stats.People)
		if g.rng.Float64() < emptyHouseShare {
			g.emptyHouse()
		}
	}
	if progress != nil && g.err == nil {
		progress(g.stats.People, g.target)
	}
	return g.err
}

// emit plants at most one defect and one dirty field in row, then hands both to the sink. It
// returns the defect (KindDuplicatePerson is only chosen: the caller writes the duplicate).
func (g *gen) emit(source, dataset string, row map[string]string, pc plantCtx) Defect {
	if g.err != nil {
		return Defect{}
	}
	id := [2]string{source, dataset}
	g.rows[id]++
	pc.key = Key{Source: source, Dataset: dataset, Row: g.rows[id]}
	pc.row = row
	d := g.defect(pc)
	if d.Kind != "" && d.Kind != KindDuplicatePerson {
		g.record(d)
	}
	if dd := g.dirty(pc, d.Field); dd.Kind != "" {
		g.record(dd)
	}
	g.stats.Rows++
	if err := g.out.write(pc.key, row); err != nil && g.err == nil {
		g.err = err
	}
	return d
}

// record counts a defect and hands it to the sink.
func (g *gen) record(d Defect) {
	m := g.stats.Planted[d.Dataset]
	if m == nil {
		m = map[Kind]int{}
		g.stats.Planted[d.Dataset] = m
	}
	m[d.Kind]++
	if err := g.out.defect(d); err != nil && g.err == nil {
		g.err = err
	}
}

// serial returns the next serial number of a kind of identifier, from 1.
func (g *gen) serial(kind string) int {
	g.next[kind]++
	return g.next[kind]
}
