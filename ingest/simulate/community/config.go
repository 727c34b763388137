package community

import (
	"fmt"
	"time"
)

// Config is the generator's configuration. Each field maps to a flag and a CITYPULSE_* variable
// through internal/config.
type Config struct {
	CityCode   string  `flag:"community-city" help:"12-digit code of the city whose communities are generated"`
	Scale      int     `flag:"community-scale" help:"real residents per generated person (1000 = 1:1000 of the city's population)"`
	Seed       int64   `flag:"community-seed" help:"seed; the same seed, scale, rates and as-of date give the same records"`
	DefectRate float64 `flag:"community-defect-rate" help:"share of records with one planted defect (0..1)"`
	DirtyRate  float64 `flag:"community-dirty-rate" help:"share of records with a dirty but valid field (full-width digits, stray spaces) (0..1)"`
	AsOf       string  `flag:"community-as-of" help:"date the data is as of, YYYY-MM-DD in China time (empty: today); ages and dates are relative to it"`
}

// DefaultConfig is small enough for tests: Chengdu at 1:10,000 (about 2,100 people), 2% defects,
// 3% dirty records.
func DefaultConfig() Config {
	return Config{CityCode: "510100000000", Scale: 10000, Seed: 1, DefectRate: 0.02, DirtyRate: 0.03}
}

// CityPopulation is the resident population (常住人口) of each city with region data, by its
// 4-digit prefix: Chengdu 21.4 million, Xuchang 4.4 million (2023 statistical bulletins).
var CityPopulation = map[string]int{"5101": 21_403_000, "4110": 4_380_000}

// MaxPeople bounds the generated population: the generator holds the city in memory.
const MaxPeople = 5_000_000

var chinaTime = time.FixedZone("CST", 8*3600)

// validate checks the fields and returns the as-of time (noon of the as-of day, China time) and
// the number of people.
func (c Config) validate(now time.Time) (time.Time, int, error) {
	if len(c.CityCode) != 12 {
		return time.Time{}, 0, fmt.Errorf("community-city %q: want a 12-digit city code such as 510100000000", c.CityCode)
	}
	pop, ok := CityPopulation[c.CityCode[:4]]
	switch {
	case !ok:
		return time.Time{}, 0, fmt.Errorf("community-city %s: no population figure (have 510100000000, 411000000000)", c.CityCode)
	case c.Scale < 1:
		return time.Time{}, 0, fmt.Errorf("community-scale %d: want at least 1", c.Scale)
	case c.DefectRate < 0 || c.DefectRate > 1:
		return time.Time{}, 0, fmt.Errorf("community-defect-rate %g: want 0..1", c.DefectRate)
	case c.DirtyRate < 0 || c.DirtyRate > 1:
		return time.Time{}, 0, fmt.Errorf("community-dirty-rate %g: want 0..1", c.DirtyRate)
	}
	people := pop / c.Scale
	if people < 1 {
		people = 1
	}
	if people > MaxPeople {
		return time.Time{}, 0, fmt.Errorf("community-scale %d: %d people, at most %d (raise the scale)", c.Scale, people, MaxPeople)
	}
	var day time.Time
	if c.AsOf == "" {
		y, m, d := now.In(chinaTime).Date()
		day = time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	} else {
		var err error
		if day, err = time.ParseInLocation(time.DateOnly, c.AsOf, chinaTime); err != nil {
			return time.Time{}, 0, fmt.Errorf("community-as-of %q: want YYYY-MM-DD", c.AsOf)
		}
	}
	return day.Add(12 * time.Hour), people, nil
}
