package chsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/parquet-go/parquet-go"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*FileShard)(nil)).Elem())
	register.DoFn3x1[context.Context, string, func(FileShard), error](&parquetPlanFn{})
	register.DoFn4x1[context.Context, *sdf.LockRTracker, FileShard, func(Block), error](&parquetReadFn{})
	register.Emitter1[FileShard]()
}

// FileShard is one Parquet file of a read: its units are its row groups.
type FileShard struct {
	Path string
	// Rows per row group.
	Rows []int64
}

// ReadParquet adds a bounded read of Parquet files (archives written from ClickHouse tables, for
// one) to s and returns a PCollection of Block, as Read does for a table: the same columns give
// the same Blocks, so a pipeline reads a table or its archive alike. Columns are found by name
// (Column.Expr must be empty); the files' paths must be readable by every worker. Each row group
// is a unit of the restriction, split initially by Options.SplitRows and dynamically by the
// runner. Missing values (nulls) read as zero values.
func ReadParquet(s beam.Scope, files []string, cols []Column, opt Options) (beam.PCollection, error) {
	if len(files) == 0 {
		return beam.PCollection{}, errors.New("chsource parquet read: no files")
	}
	if err := (Query{Table: "parquet", Columns: cols, SplitKey: "-"}).Validate(); err != nil {
		return beam.PCollection{}, err
	}
	for _, c := range cols {
		if c.Expr != "" {
			return beam.PCollection{}, fmt.Errorf("%w: column %s: a Parquet read takes columns by name, not expressions", ErrInvalidQuery, c.Name)
		}
	}
	opt = opt.withDefaults()
	s = s.Scope("chsource.parquet")
	shards := beam.ParDo(s, &parquetPlanFn{}, beam.CreateList(s, files))
	return beam.ParDo(s, &parquetReadFn{Columns: cols, Options: opt}, shards), nil
}

// parquetPlanFn reads a file's row group sizes.
type parquetPlanFn struct{}

func (parquetPlanFn) ProcessElement(_ context.Context, path string, emit func(FileShard)) error {
	f, pf, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sh := FileShard{Path: path}
	for _, rg := range pf.RowGroups() {
		sh.Rows = append(sh.Rows, rg.NumRows())
	}
	emit(sh)
	return nil
}

func openParquet(path string) (*os.File, *parquet.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open parquet file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat parquet file: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read parquet file %s: %w", path, err)
	}
	return f, pf, nil
}

// parquetReadFn reads the row groups of a file's restriction.
type parquetReadFn struct {
	Columns []Column
	Options Options
}

func (f *parquetReadFn) CreateInitialRestriction(sh FileShard) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: int64(len(sh.Rows))}
}

func (f *parquetReadFn) SplitRestriction(sh FileShard, r offsetrange.Restriction) []offsetrange.Restriction {
	return Shard{Rows: sh.Rows, Bounds: make([]string, len(sh.Rows))}.splits(r, f.Options.SplitRows)
}

func (f *parquetReadFn) RestrictionSize(sh FileShard, r offsetrange.Restriction) float64 {
	return float64(Shard{Rows: sh.Rows}.size(r))
}

func (f *parquetReadFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(r))
}

func (f *parquetReadFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, sh FileShard, emit func(Block)) error {
	file, pf, err := openParquet(sh.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	idx, err := parquetColumns(pf.Schema(), f.Columns)
	if err != nil {
		return fmt.Errorf("%s: %w", sh.Path, err)
	}
	rows := beam.NewCounter(f.Options.Namespace, CounterRows)
	units := beam.NewCounter(f.Options.Namespace, CounterUnits)
	groups := pf.RowGroups()
	r := rt.GetRestriction().(offsetrange.Restriction)
	for u := r.Start; rt.TryClaim(u); u++ {
		if u >= int64(len(groups)) {
			return fmt.Errorf("%s: row group %d of %d: the file changed since it was planned", sh.Path, u, len(groups))
		}
		n, err := readRowGroup(groups[u], f.Columns, idx, f.Options.BlockRows, emit)
		if err != nil {
			return fmt.Errorf("%s row group %d: %w", sh.Path, u, err)
		}
		rows.Inc(ctx, n)
		units.Inc(ctx, 1)
	}
	return rt.GetError()
}

// parquetColumns finds the leaf column index of each column by name.
func parquetColumns(schema *parquet.Schema, cols []Column) ([]int, error) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		leaf, ok := schema.Lookup(c.Name)
		if !ok {
			return nil, fmt.Errorf("no column %s", c.Name)
		}
		idx[i] = leaf.ColumnIndex
	}
	return idx, nil
}

// readRowGroup emits a row group's rows in blocks.
func readRowGroup(rg parquet.RowGroup, cols []Column, idx []int, blockRows int, emit func(Block)) (int64, error) {
	rows := rg.Rows()
	defer rows.Close()
	buf := make([]parquet.Row, min(blockRows, 1024))
	b := newBlock(cols, blockRows)
	var total int64
	for {
		n, err := rows.ReadRows(buf)
		for _, row := range buf[:n] {
			for i, c := range cols {
				if err := appendValue(&b.Cols[i], c.Kind, valueAt(row, idx[i])); err != nil {
					return total, fmt.Errorf("column %s: %w", c.Name, err)
				}
			}
			b.Len++
			total++
			if b.Len == blockRows {
				emit(b)
				b = newBlock(cols, blockRows)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return total, err
		}
		if n == 0 {
			break
		}
	}
	if b.Len > 0 {
		emit(b)
	}
	return total, nil
}

// valueAt is the value of leaf column col in a row of flat (non-repeated) columns.
func valueAt(row parquet.Row, col int) parquet.Value {
	if col < len(row) && row[col].Column() == col {
		return row[col] // one value per column, in column order: the usual flat row
	}
	for _, v := range row {
		if v.Column() == col {
			return v
		}
	}
	return parquet.Value{}
}

// appendValue converts a Parquet value to the column's kind.
func appendValue(c *Col, kind Kind, v parquet.Value) error {
	null := v.IsNull()
	switch kind {
	case String:
		s := ""
		if !null {
			s = string(v.ByteArray())
		}
		c.Str = append(c.Str, s)
		return nil
	case Int, Uint:
		var x int64
		switch {
		case null:
		case v.Kind() == parquet.Int64:
			x = v.Int64()
		case v.Kind() == parquet.Int32:
			x = int64(v.Int32())
		case v.Kind() == parquet.Boolean:
			if v.Boolean() {
				x = 1
			}
		default:
			return fmt.Errorf("%s value for an integer", v.Kind())
		}
		if kind == Int {
			c.Int = append(c.Int, x)
		} else {
			c.Uint = append(c.Uint, uint64(x))
		}
		return nil
	case Float:
		var x float64
		switch {
		case null:
		case v.Kind() == parquet.Double:
			x = v.Double()
		case v.Kind() == parquet.Float:
			x = float64(v.Float())
		default:
			return fmt.Errorf("%s value for a float", v.Kind())
		}
		c.Float = append(c.Float, x)
		return nil
	}
	return fmt.Errorf("unknown kind %d", kind)
}
