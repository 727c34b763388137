package community

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is the generator's configuration. Each field maps to a flag and a CITYPULSE_* variable
// through internal/config.
type Config struct {
	CityCode   string  `flag:"community-city" help:"12-digit code of the city whose communities are generated"`
	Scale      int     `flag:"community-scale" help:"real residents per generated person (1000 = 1:1000 of the city's population); every dataset scales alike"`
	Seed       int64   `flag:"community-seed" help:"seed; the same seed, scale, rates and as-of date give the same records"`
	DefectRate float64 `flag:"community-defect-rate" help:"share of records with one planted defect (0..1)"`
	DirtyRate  float64 `flag:"community-dirty-rate" help:"share of records with a dirty but valid field (full-width digits, stray spaces) (0..1)"`
	AsOf       string  `flag:"community-as-of" help:"date the data is as of, YYYY-MM-DD in China time (empty: today); ages and dates are relative to it"`

	// Dir is where Run writes the files, the source definitions, manifest.json and the ground
	// truth. It is created when missing; files of an earlier run are replaced.
	Dir string `flag:"community-dir" help:"directory Run writes the generated files, manifest.json and ground_truth.jsonl to"`
	// GBKSources are the sources whose CSV files are written in GBK (as a Chinese-locale
	// spreadsheet saves them); the others write UTF-8.
	GBKSources []string `flag:"community-gbk-sources" help:"sources whose CSV files are GBK-encoded, comma-separated"`
	// PushURL, when set, makes Run upload every file to the feeds gateway at this base URL.
	PushURL string `flag:"community-push-url" help:"feeds gateway base URL to upload every generated file to (empty: only write the files)"`
	// PushSecrets are the sources' secrets for PushURL, as source=hex items.
	PushSecrets []string `flag:"community-push-secrets" help:"per-source secrets for the upload, source=hex items, comma-separated (prefer the environment variable)"`
}

// DefaultConfig is small enough for tests: Chengdu at 1:10,000 (about 2,100 people), 2% defects,
// 3% dirty records, the police and market-regulation sources in GBK, files under
// ./community-data, no upload.
func DefaultConfig() Config {
	return Config{CityCode: "510100000000", Scale: 10000, Seed: 1, DefectRate: 0.02, DirtyRate: 0.03,
		Dir: "community-data", GBKSources: []string{SourcePolice, SourceMarket}}
}

// CityPopulation is the resident population (常住人口) of each city with region data, by its
// 4-digit prefix: Chengdu 21.4 million, Xuchang 4.4 million (2023 statistical bulletins).
var CityPopulation = map[string]int{"5101": 21_403_000, "4110": 4_380_000}

// MaxInMemoryPeople bounds Generate, which holds every record in memory; Run streams and has no
// such bound.
const MaxInMemoryPeople = 500_000

var chinaTime = time.FixedZone("CST", 8*3600)

// validate checks the generator's fields and returns the as-of time (noon of the as-of day, China
// time) and the number of people.
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
	people := max(pop/c.Scale, 1)
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
	if day.Year() < 1990 || day.Year() > 2150 {
		return time.Time{}, 0, fmt.Errorf("community-as-of %q: want a year 1990..2150", c.AsOf)
	}
	return day.Add(12 * time.Hour), people, nil
}

// validateRun checks what Run needs besides the generator's fields and returns the push secrets
// by source.
func (c Config) validateRun() (map[string][]byte, error) {
	if strings.TrimSpace(c.Dir) == "" {
		return nil, fmt.Errorf("community-dir: required")
	}
	known := map[string]bool{}
	for _, s := range Sources() {
		known[s.ID] = true
	}
	for _, s := range c.GBKSources {
		if !known[s] {
			return nil, fmt.Errorf("community-gbk-sources: %q is not a simulated source (%s)", s, strings.Join(SourceIDs(), ", "))
		}
	}
	secrets := map[string][]byte{}
	for _, item := range c.PushSecrets {
		id, hx, ok := strings.Cut(item, "=")
		if !ok || !known[id] {
			return nil, fmt.Errorf("community-push-secrets: item for %q: want source=hex with a source of %s", id, strings.Join(SourceIDs(), ", "))
		}
		b, err := hex.DecodeString(hx)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("community-push-secrets: secret of %s is not hex", id)
		}
		secrets[id] = b
	}
	if c.PushURL == "" {
		return secrets, nil
	}
	if u, err := url.Parse(c.PushURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("community-push-url %q: want an http(s) URL such as http://127.0.0.1:8082", c.PushURL)
	}
	for _, id := range SourceIDs() {
		if secrets[id] == nil {
			return nil, fmt.Errorf("community-push-secrets: no secret for source %s (every simulated source pushes)", id)
		}
	}
	return secrets, nil
}
