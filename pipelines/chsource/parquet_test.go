package chsource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/parquet-go/parquet-go"
)

type pqRow struct {
	ID    string  `parquet:"id"`
	N     int64   `parquet:"n"`
	Small int32   `parquet:"small"`
	F     float64 `parquet:"f"`
	Opt   *string `parquet:"opt,optional"`
}

// writeParquet writes rows id00000… with row groups of groupRows.
func writeParquet(t *testing.T, rows, groupRows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[pqRow](f, parquet.MaxRowsPerRowGroup(int64(groupRows)))
	for i := range rows {
		r := pqRow{ID: fmt.Sprintf("id%05d", i), N: int64(i) - 5, Small: int32(i), F: float64(i) / 2}
		if i%2 == 0 {
			s := "x"
			r.Opt = &s
		}
		if _, err := w.Write([]pqRow{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

var pqCols = []Column{{Name: "id"}, {Name: "n", Kind: Int}, {Name: "small", Kind: Uint}, {Name: "f", Kind: Float}, {Name: "opt"}}

// TestParquetSplitsCoverEveryRowOnce reads a file's row groups through the SDF, split in several
// ways, and checks every row comes once with its values.
func TestParquetSplitsCoverEveryRowOnce(t *testing.T) {
	path := writeParquet(t, 1000, 64)
	var sh FileShard
	if err := (parquetPlanFn{}).ProcessElement(context.Background(), path, func(s FileShard) { sh = s }); err != nil {
		t.Fatal(err)
	}
	if len(sh.Rows) != 16 {
		t.Fatalf("%d row groups, want 16", len(sh.Rows))
	}
	for _, c := range []struct {
		splitRows int64
		dynamic   float64
	}{{1 << 40, 0}, {1, 0}, {200, 0.5}, {1000, 0.3}} {
		t.Run(fmt.Sprintf("split %d dynamic %g", c.splitRows, c.dynamic), func(t *testing.T) {
			fn := &parquetReadFn{Columns: pqCols, Options: Options{SplitRows: c.splitRows, BlockRows: 50}.withDefaults()}
			seen := map[string]int{}
			for _, r := range fn.SplitRestriction(sh, fn.CreateInitialRestriction(sh)) {
				pieces := []offsetrange.Restriction{r}
				if c.dynamic > 0 {
					p, res, err := offsetrange.NewTracker(r).TrySplit(c.dynamic)
					if err != nil {
						t.Fatal(err)
					}
					pieces = []offsetrange.Restriction{p.(offsetrange.Restriction)}
					if res != nil {
						pieces = append(pieces, res.(offsetrange.Restriction))
					}
				}
				for _, piece := range pieces {
					rt := sdf.NewLockRTracker(offsetrange.NewTracker(piece))
					err := fn.ProcessElement(context.Background(), rt, sh, func(b Block) {
						for i := range b.Len {
							id := b.Cols[0].Str[i]
							var n int
							fmt.Sscanf(id, "id%d", &n)
							opt := ""
							if n%2 == 0 {
								opt = "x"
							}
							if b.Cols[1].Int[i] != int64(n)-5 || b.Cols[2].Uint[i] != uint64(n) || b.Cols[3].Float[i] != float64(n)/2 || b.Cols[4].Str[i] != opt {
								t.Errorf("row %s: %d %d %g %q", id, b.Cols[1].Int[i], b.Cols[2].Uint[i], b.Cols[3].Float[i], b.Cols[4].Str[i])
							}
							seen[id]++
						}
					})
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			if len(seen) != 1000 {
				t.Errorf("%d distinct rows, want 1000", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s read %d times", id, n)
				}
			}
		})
	}
}

func TestReadParquetErrors(t *testing.T) {
	path := writeParquet(t, 10, 5)
	_, s := beam.NewPipelineWithRoot()
	if _, err := ReadParquet(s, nil, pqCols, Options{}); err == nil {
		t.Error("no files: no error")
	}
	if _, err := ReadParquet(s, []string{path}, []Column{{Name: "n", Expr: "n + 1", Kind: Int}}, Options{}); err == nil || !strings.Contains(err.Error(), "by name") {
		t.Errorf("expression column: %v", err)
	}
	fn := &parquetReadFn{Columns: []Column{{Name: "missing"}}, Options: Options{}.withDefaults()}
	sh := FileShard{Path: path, Rows: []int64{5, 5}}
	rt := sdf.NewLockRTracker(offsetrange.NewTracker(fn.CreateInitialRestriction(sh)))
	if err := fn.ProcessElement(context.Background(), rt, sh, func(Block) {}); err == nil || !strings.Contains(err.Error(), "no column missing") {
		t.Errorf("missing column: %v", err)
	}
	fn = &parquetReadFn{Columns: []Column{{Name: "id", Kind: Float}}, Options: Options{}.withDefaults()}
	rt = sdf.NewLockRTracker(offsetrange.NewTracker(fn.CreateInitialRestriction(sh)))
	if err := fn.ProcessElement(context.Background(), rt, sh, func(Block) {}); err == nil {
		t.Error("a string read as a float: no error")
	}
	if err := (parquetPlanFn{}).ProcessElement(context.Background(), filepath.Join(t.TempDir(), "none.parquet"), func(FileShard) {}); err == nil {
		t.Error("missing file: no error")
	}
}
