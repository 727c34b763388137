package warehouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// LoadDimensions loads dim_region with every region of the city (cityCode: 12 digits, or the
// 4-digit prefix) and dim_service with the service catalogue, into the connection's database. It
// returns how many regions and services the tables now hold for the city. A table whose rows
// already equal the data is left alone; otherwise the rows are inserted and the table optimised
// (OPTIMIZE … FINAL) so that ReplacingMergeTree keeps one row per key. Running it again is
// harmless. Regions that disappear from the data are not deleted.
func LoadDimensions(ctx context.Context, conn driver.Conn, cityCode string) (regions, services int, err error) {
	regs, err := dimdata.Regions(cityCode)
	if err != nil {
		return 0, 0, err
	}
	svcs, err := dimdata.Services()
	if err != nil {
		return 0, 0, err
	}
	city := regs[0].Code // Regions puts the city first
	now := time.Now()

	regionRows := make([][]any, len(regs))
	for i, r := range regs {
		regionRows[i] = []any{r.Code, r.Name, r.Level, r.ParentCode, city}
	}
	err = loadDim(ctx, conn, dimTable{
		name:    "dim_region",
		columns: []string{"code", "name", "level", "parent_code", "city_code"},
		current: "SELECT code, name, level, parent_code, city_code FROM dim_region FINAL WHERE city_code = ? ORDER BY code",
		args:    []any{city},
		scan:    scanRegion,
	}, regionRows, now)
	if err != nil {
		return 0, 0, err
	}

	serviceRows := make([][]any, len(svcs))
	for i, s := range svcs {
		serviceRows[i] = []any{s.ID, s.Name, s.Category}
	}
	err = loadDim(ctx, conn, dimTable{
		name:    "dim_service",
		columns: []string{"service_id", "name", "category"},
		current: "SELECT service_id, name, category FROM dim_service FINAL ORDER BY service_id",
		scan:    scanService,
	}, serviceRows, now)
	if err != nil {
		return len(regs), 0, err
	}
	return len(regs), len(svcs), nil
}

func scanRegion(scan func(...any) error) ([]any, error) {
	var code, name, level, parent, city string
	err := scan(&code, &name, &level, &parent, &city)
	return []any{code, name, level, parent, city}, err
}

func scanService(scan func(...any) error) ([]any, error) {
	var id uint32
	var name, category string
	err := scan(&id, &name, &category)
	return []any{id, name, category}, err
}

// dimTable describes one dimension table for loadDim.
type dimTable struct {
	name    string
	columns []string // without loaded_at, which loadDim adds
	current string   // selects the columns of the rows this load replaces, in key order
	args    []any
	scan    func(scan func(...any) error) ([]any, error)
}

// loadDim inserts rows (sorted by their first column, the key) unless the table holds exactly them.
func loadDim(ctx context.Context, conn driver.Conn, t dimTable, rows [][]any, now time.Time) error {
	slices.SortFunc(rows, func(a, b []any) int { return compareKey(a[0], b[0]) })
	have, err := queryRows(ctx, conn, t.current, t.args, t.scan)
	if err != nil {
		return fmt.Errorf("read %s: %w", t.name, err)
	}
	if slices.EqualFunc(have, rows, slices.Equal) {
		return nil
	}
	cols := ""
	for _, c := range append(slices.Clone(t.columns), "loaded_at") {
		if cols != "" {
			cols += ", "
		}
		cols += QuoteIdent(c)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+QuoteIdent(t.name)+" ("+cols+")")
	if err != nil {
		return fmt.Errorf("load %s: %w", t.name, err)
	}
	for _, r := range rows {
		if err := b.Append(append(slices.Clone(r), now)...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("load %s row %v: %w", t.name, r[0], err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("load %s: %w", t.name, err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+QuoteIdent(t.name)+" FINAL"); err != nil {
		return fmt.Errorf("optimize %s: %w", t.name, err)
	}
	return nil
}

func queryRows(ctx context.Context, conn driver.Conn, q string, args []any, scan func(func(...any) error) ([]any, error)) ([][]any, error) {
	rs, err := conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][]any
	for rs.Next() {
		r, err := scan(rs.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func compareKey(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	case uint32:
		y, _ := b.(uint32)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
