package chsource

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Shard)(nil)).Elem())
	register.DoFn3x1[context.Context, []byte, func(Shard), error](&planFn{})
	register.DoFn4x1[context.Context, *sdf.LockRTracker, Shard, func(Block), error](&readFn{})
	register.Emitter1[Shard]()
	register.Emitter1[Block]()
}

// Counter names, in Options.Namespace.
const (
	CounterRows  = "rows_read"
	CounterUnits = "units_read"
)

// Read adds a bounded read of q to s: an impulse, a step that plans the shards when the
// pipeline runs (so the plan sees the table as it is then), and the splittable read. It returns
// a PCollection of Block.
func Read(s beam.Scope, wh warehouse.Config, q Query, opt Options) (beam.PCollection, error) {
	if err := q.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	if err := wh.Validate(); err != nil {
		return beam.PCollection{}, fmt.Errorf("chsource read of %s: %w", q.Table, err)
	}
	opt = opt.withDefaults()
	s = s.Scope("chsource." + q.Table)
	shards := beam.ParDo(s, &planFn{Warehouse: wh, Query: q, Options: opt}, beam.Impulse(s))
	return beam.ParDo(s, &readFn{Warehouse: wh, Query: q, Options: opt}, shards), nil
}

// ReadShards is Read over shards planned beforehand (Plan), e.g. to read exactly what a plan
// saw, or in tests.
func ReadShards(s beam.Scope, wh warehouse.Config, q Query, opt Options, shards []Shard) (beam.PCollection, error) {
	if err := q.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	if len(shards) == 0 {
		return beam.PCollection{}, fmt.Errorf("chsource read of %s: no shards", q.Table)
	}
	opt = opt.withDefaults()
	s = s.Scope("chsource." + q.Table)
	return beam.ParDo(s, &readFn{Warehouse: wh, Query: q, Options: opt}, beam.CreateList(s, shards)), nil
}

// planFn emits the shards of the query.
type planFn struct {
	Warehouse warehouse.Config
	Query     Query
	Options   Options
}

func (f *planFn) ProcessElement(ctx context.Context, _ []byte, emit func(Shard)) error {
	conn, err := warehouse.Open(ctx, f.Warehouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	shards, err := Plan(ctx, conn, f.Query, f.Options)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		emit(sh)
	}
	return nil
}

// readFn reads the units of a shard's restriction, one query per claimed unit.
type readFn struct {
	Warehouse warehouse.Config
	Query     Query
	Options   Options

	conn      driver.Conn
	closeOnce sync.Once
	rows      beam.Counter
	units     beam.Counter
}

func (f *readFn) Setup(ctx context.Context) error {
	conn, err := warehouse.Open(ctx, f.Warehouse)
	if err != nil {
		return err
	}
	f.conn = conn
	f.rows = beam.NewCounter(f.Options.Namespace, CounterRows)
	f.units = beam.NewCounter(f.Options.Namespace, CounterUnits)
	// The Beam Go harness (v2.77 on Prism) does not call Teardown when a job ends: close when
	// the worker's context ends too, or every run would leave a connection behind.
	context.AfterFunc(ctx, func() { _ = f.Teardown() })
	return nil
}

func (f *readFn) Teardown() error {
	var err error
	f.closeOnce.Do(func() {
		if f.conn != nil {
			err = f.conn.Close()
		}
	})
	return err
}

// CreateInitialRestriction is every unit of the shard.
func (f *readFn) CreateInitialRestriction(sh Shard) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: sh.Units()}
}

// SplitRestriction cuts into pieces of about SplitRows planned rows.
func (f *readFn) SplitRestriction(sh Shard, r offsetrange.Restriction) []offsetrange.Restriction {
	return sh.splits(r, f.Options.SplitRows)
}

// RestrictionSize is the planned rows of the restriction's units.
func (f *readFn) RestrictionSize(sh Shard, r offsetrange.Restriction) float64 {
	return float64(sh.size(r))
}

func (f *readFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(r))
}

func (f *readFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, sh Shard, emit func(Block)) error {
	r := rt.GetRestriction().(offsetrange.Restriction)
	for u := r.Start; rt.TryClaim(u); u++ {
		n, err := ReadUnit(ctx, f.conn, f.Query, sh, u, f.Options.BlockRows, emit)
		if err != nil {
			return err
		}
		f.rows.Inc(ctx, n)
		f.units.Inc(ctx, 1)
	}
	return rt.GetError()
}

// ReadUnit runs unit u's query of a shard (from Plan) and emits its rows in blocks of up to
// blockRows; it returns the rows read. It is the read step itself, for callers outside a
// pipeline (the Parquet archiver).
func ReadUnit(ctx context.Context, conn driver.Conn, q Query, sh Shard, u int64, blockRows int, emit func(Block)) (int64, error) {
	lo, hi := sh.bounds(u)
	sql, args := q.unitSQL(sh.Partition, lo, hi)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("read %s partition %s unit %d: %w", q.Table, sh.Partition, u, err)
	}
	defer rows.Close()
	dest := make([]any, len(q.Columns))
	var (
		strs   = make([]string, len(q.Columns))
		ints   = make([]int64, len(q.Columns))
		uints  = make([]uint64, len(q.Columns))
		floats = make([]float64, len(q.Columns))
	)
	for i, c := range q.Columns {
		switch c.Kind {
		case String:
			dest[i] = &strs[i]
		case Int:
			dest[i] = &ints[i]
		case Uint:
			dest[i] = &uints[i]
		case Float:
			dest[i] = &floats[i]
		}
	}
	var total int64
	b := newBlock(q.Columns, blockRows)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return total, fmt.Errorf("read %s partition %s unit %d: %w", q.Table, sh.Partition, u, err)
		}
		for i, c := range q.Columns {
			col := &b.Cols[i]
			switch c.Kind {
			case String:
				col.Str = append(col.Str, strs[i])
			case Int:
				col.Int = append(col.Int, ints[i])
			case Uint:
				col.Uint = append(col.Uint, uints[i])
			case Float:
				col.Float = append(col.Float, floats[i])
			}
		}
		b.Len++
		total++
		if b.Len == blockRows {
			emit(b)
			b = newBlock(q.Columns, blockRows)
		}
	}
	if err := rows.Err(); err != nil {
		return total, fmt.Errorf("read %s partition %s unit %d: %w", q.Table, sh.Partition, u, err)
	}
	if b.Len > 0 {
		emit(b)
	}
	return total, nil
}
