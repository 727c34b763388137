package validate

import (
	"fmt"
	"strings"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// Region is a resolved 12-digit region code with the codes of its four levels.
type Region struct {
	Code      string
	Name      string
	Level     string // dimdata.LevelCity … dimdata.LevelCommunity
	City      string // 12-digit code of the city
	District  string // "" when Level is city
	Street    string // "" when Level is city or district
	Community string // "" unless Level is community
}

// Regions is an immutable index of the embedded region data of every supported city. Build it once
// (LoadRegions) and share it: Lookup is safe for concurrent use.
type Regions struct {
	byCode map[string]Region
	cities []string
}

// LoadRegions indexes the embedded region data of every city in warehouse/dimdata.
func LoadRegions() (*Regions, error) {
	rs := &Regions{byCode: make(map[string]Region, 8192), cities: dimdata.Cities()}
	parent := make(map[string]string, 8192)
	for _, city := range rs.cities {
		regions, err := dimdata.Regions(city)
		if err != nil {
			return nil, fmt.Errorf("load regions %s: %w", city, err)
		}
		for _, r := range regions {
			rs.byCode[r.Code] = Region{Code: r.Code, Name: r.Name, Level: r.Level}
			parent[r.Code] = r.ParentCode
		}
	}
	// Fill the four levels by walking up the parents.
	for code, r := range rs.byCode {
		for c, hops := code, 0; c != "" && hops < 4; hops++ {
			p, ok := rs.byCode[c]
			if !ok {
				return nil, fmt.Errorf("load regions: %s has a parent %s that is not in the data", code, c)
			}
			switch p.Level {
			case dimdata.LevelCity:
				r.City = c
			case dimdata.LevelDistrict:
				r.District = c
			case dimdata.LevelStreet:
				r.Street = c
			case dimdata.LevelCommunity:
				r.Community = c
			}
			c = parent[c]
		}
		rs.byCode[code] = r
	}
	return rs, nil
}

// Len is the number of regions indexed.
func (rs *Regions) Len() int { return len(rs.byCode) }

// Lookup checks a 12-digit statistical division code (spaces and full-width digits folded) and
// resolves it against the region data. Shorter codes are not padded: "510104" is rejected, since a
// feed that drops digits has lost the community.
func (rs *Regions) Lookup(s string) (Region, error) {
	s, err := compact(s)
	if err != nil {
		return Region{}, err
	}
	switch {
	case s == "":
		return Region{}, errorf(KindEmpty, "empty region code")
	case nonDigit(s) >= 0:
		return Region{}, errorf(KindCharset, "region code %q: not all digits", s)
	case len(s) != 12:
		return Region{}, errorf(KindLength, "region code %q: %d digits, want 12", s, len(s))
	}
	r, ok := rs.byCode[s]
	if !ok {
		return Region{}, errorf(KindUnknown, "region code %s: not a region of the supported cities (%s)", s, strings.Join(rs.cities, ", "))
	}
	return r, nil
}

// LookupLevel is Lookup that also requires the region to be at the given level ("" = any).
func (rs *Regions) LookupLevel(s, level string) (Region, error) {
	r, err := rs.Lookup(s)
	if err != nil || level == "" || r.Level == level {
		return r, err
	}
	return Region{}, errorf(KindLevel, "region code %s (%s) is a %s, want a %s", r.Code, r.Name, r.Level, level)
}
