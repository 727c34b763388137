package chsource

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
)

// Options size the pieces of a read. Zero values are the defaults.
type Options struct {
	// UnitRows is the size a unit (one query, the smallest piece a restriction claims) grows
	// to before the next one starts, in rows as planned (default 250,000). A single split-key
	// value (or prefix, see Query.KeyPrefix) is never cut, so a unit may be larger.
	UnitRows int64
	// SplitRows is the size of the initial restrictions a shard is split into (default
	// 2,000,000); runners may split them further while they run.
	SplitRows int64
	// BlockRows is the number of rows per emitted Block (default 8,192).
	BlockRows int
	// Namespace of the Beam counters (default "chsource"): rows_read, units_read.
	Namespace string
}

func (o Options) withDefaults() Options {
	if o.UnitRows <= 0 {
		o.UnitRows = 250_000
	}
	if o.SplitRows <= 0 {
		o.SplitRows = 2_000_000
	}
	if o.BlockRows <= 0 {
		o.BlockRows = 8192
	}
	if o.Namespace == "" {
		o.Namespace = "chsource"
	}
	return o
}

// Shard is the part of a read that lies in one partition: units of split-key ranges. Unit i
// holds the rows whose split key is ≥ Bounds[i] (no lower bound for i = 0) and < Bounds[i+1]
// (no upper bound for the last unit). Its restriction is a range of unit indexes.
type Shard struct {
	Partition string
	Bounds    []string
	// Rows per unit, as planned (without FINAL): the sizes of restrictions.
	Rows []int64
}

// Units is the number of units.
func (s Shard) Units() int64 { return int64(len(s.Bounds)) }

// bounds returns unit u's lower and upper bounds; nil is open.
func (s Shard) bounds(u int64) (lo, hi *string) {
	if u > 0 {
		lo = &s.Bounds[u]
	}
	if u+1 < int64(len(s.Bounds)) {
		hi = &s.Bounds[u+1]
	}
	return lo, hi
}

// size is the planned rows of the units in r.
func (s Shard) size(r offsetrange.Restriction) int64 {
	var n int64
	for u := max(r.Start, 0); u < r.End && u < int64(len(s.Rows)); u++ {
		n += s.Rows[u]
	}
	return n
}

// splits cuts r into consecutive restrictions of about rows rows each (never empty, never
// cutting a unit).
func (s Shard) splits(r offsetrange.Restriction, rows int64) []offsetrange.Restriction {
	var out []offsetrange.Restriction
	start, acc := r.Start, int64(0)
	for u := r.Start; u < r.End; u++ {
		if u < int64(len(s.Rows)) {
			acc += s.Rows[u]
		}
		if acc >= rows && u+1 < r.End {
			out = append(out, offsetrange.Restriction{Start: start, End: u + 1})
			start, acc = u+1, 0
		}
	}
	if start < r.End {
		out = append(out, offsetrange.Restriction{Start: start, End: r.End})
	}
	return out
}

// Plan cuts the rows q selects into shards (one per partition that has any) of units of about
// opt.UnitRows rows. It costs one GROUP BY of the split key (or its prefix) under q's filter.
func Plan(ctx context.Context, conn driver.Conn, q Query, opt Options) ([]Shard, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	sql, args := q.planSQL()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("plan read of %s: %w", q.Table, err)
	}
	defer rows.Close()
	var (
		shards []Shard
		cur    *Shard
		acc    int64
	)
	for rows.Next() {
		var (
			part, key string
			n         uint64
		)
		if err := rows.Scan(&part, &key, &n); err != nil {
			return nil, fmt.Errorf("plan read of %s: split key %s must be a String: %w", q.Table, q.SplitKey, err)
		}
		if cur == nil || cur.Partition != part {
			shards = append(shards, Shard{Partition: part})
			cur, acc = &shards[len(shards)-1], 0
		}
		if len(cur.Bounds) == 0 || acc >= opt.UnitRows {
			cur.Bounds = append(cur.Bounds, key)
			cur.Rows = append(cur.Rows, 0)
			acc = 0
		}
		cur.Rows[len(cur.Rows)-1] += int64(n)
		acc += int64(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan read of %s: %w", q.Table, err)
	}
	return shards, nil
}
