package offline_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/pipelines/offline"
)

func init() {
	register.Function2x0(formatArchiveRows)
	register.Emitter1[string]()
}

// formatArchiveRows writes each row of an archive block as its columns joined by "|".
func formatArchiveRows(b chsource.Block, emit func(string)) {
	for i := range b.Len {
		var parts []string
		for _, c := range b.Cols {
			switch {
			case c.Str != nil:
				parts = append(parts, c.Str[i])
			case c.Int != nil:
				parts = append(parts, fmt.Sprint(c.Int[i]))
			default:
				parts = append(parts, fmt.Sprint(c.Uint[i]))
			}
		}
		emit(strings.Join(parts, "|"))
	}
}

// TestArchiveRoundTrip archives the fixture's month to Parquet, reads the files back through
// chsource.ReadParquet on Prism (split by row groups), and finds every row of dwd_events FINAL
// exactly once; then archives again dropping the partition, and once more (a no-op).
func TestArchiveRoundTrip(t *testing.T) {
	cfg, conn := fixture(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	res, err := offline.Archive(ctx, cfg, "2026-11", offline.ArchiveOptions{Dir: dir, RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range offline.ArchiveColumns {
		switch c.Kind {
		case chsource.String:
			cols = append(cols, "toString("+c.Name+")")
		default:
			cols = append(cols, "toString(toInt64("+c.Name+"))")
		}
	}
	want := testenv.QueryStrings(t, conn, "SELECT concat("+strings.Join(cols, ", '|', ")+") AS r FROM dwd_events FINAL ORDER BY r")
	if res.Rows != int64(len(want)) || len(res.Files) == 0 || res.Dropped {
		t.Fatalf("archive: %d rows in %d files (dropped %v), want %d rows", res.Rows, len(res.Files), res.Dropped, len(want))
	}
	p, s := beam.NewPipelineWithRoot()
	blocks, err := chsource.ReadParquet(s, res.Files, offline.ArchiveColumns, chsource.Options{SplitRows: 150, BlockRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	passert.Equals(s, beam.ParDo(s, formatArchiveRows, blocks), anyOf(want)...)
	if _, err := beam.Run(ctx, "prism", p); err != nil {
		t.Fatal(err)
	}

	dropped, err := offline.Archive(ctx, cfg, "2026-11", offline.ArchiveOptions{Dir: dir, RowGroupRows: 100, Drop: true})
	if err != nil || !dropped.Dropped || dropped.Rows != res.Rows || !slices.Equal(dropped.Files, res.Files) {
		t.Fatalf("archive with drop: %+v, %v", dropped, err)
	}
	if n := testenv.QueryStrings(t, conn, "SELECT toString(count()) FROM dwd_events WHERE toYYYYMM(event_date) = 202611"); n[0] != "0" {
		t.Errorf("%s rows left in the dropped month", n[0])
	}
	again, err := offline.Archive(ctx, cfg, "2026-11", offline.ArchiveOptions{Dir: dir, Drop: true})
	if err != nil || again.Dropped || !reflect.DeepEqual(again.Files, res.Files) {
		t.Errorf("archive of an archived month: %+v, %v; want its files untouched", again, err)
	}
	if _, err := offline.Archive(ctx, cfg, "Nov", offline.ArchiveOptions{Dir: dir}); err == nil {
		t.Error("bad month: no error")
	}
}

func anyOf(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
