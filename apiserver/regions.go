package apiserver

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// Region names one region in an answer.
type Region struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

// regionFamily is a region with its ancestors and children, read from dim_region.
type regionFamily struct {
	Self     Region
	Path     []Region // city first, ending with Self
	Children []Region // by code
}

// errRegionNotFound means dim_region has no such code.
var errRegionNotFound = errors.New("region not found")

// ancestorCodes returns the codes of the city, district and street above code (those that differ
// from code), top first.
func ancestorCodes(code string) []string {
	var out []string
	for _, level := range []string{dimdata.LevelCity, dimdata.LevelDistrict, dimdata.LevelStreet} {
		n := dimdata.PrefixLen(level)
		a := code[:n] + "000000000000"[:12-n]
		if a == code {
			break
		}
		out = append(out, a)
	}
	return out
}

const regionFamilySQL = `SELECT code, name, level, parent_code FROM dim_region FINAL WHERE code IN ? OR parent_code = ?`

// lookupRegion reads code, its ancestors and its children in one query.
func (s *Server) lookupRegion(ctx context.Context, code string) (regionFamily, error) {
	codes := append(ancestorCodes(code), code)
	set := make([]any, len(codes))
	for i, c := range codes {
		set[i] = c
	}
	rows, err := s.conn.Query(ctx, regionFamilySQL, clickhouse.GroupSet{Value: set}, code)
	if err != nil {
		return regionFamily{}, fmt.Errorf("read dim_region for %s: %w", code, err)
	}
	defer rows.Close()
	byCode := map[string]Region{}
	var fam regionFamily
	for rows.Next() {
		var r Region
		var parent string
		if err := rows.Scan(&r.Code, &r.Name, &r.Level, &parent); err != nil {
			return regionFamily{}, fmt.Errorf("scan dim_region: %w", err)
		}
		if parent == code && r.Code != code {
			fam.Children = append(fam.Children, r)
		}
		byCode[r.Code] = r
	}
	if err := rows.Err(); err != nil {
		return regionFamily{}, fmt.Errorf("read dim_region for %s: %w", code, err)
	}
	self, ok := byCode[code]
	if !ok {
		return regionFamily{}, errRegionNotFound
	}
	fam.Self = self
	for _, c := range codes {
		if r, ok := byCode[c]; ok {
			fam.Path = append(fam.Path, r)
		}
	}
	sort.Slice(fam.Children, func(i, j int) bool { return fam.Children[i].Code < fam.Children[j].Code })
	return fam, nil
}
