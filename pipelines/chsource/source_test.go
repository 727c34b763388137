package chsource

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

func init() {
	register.Function2x0(idsOf)
}

func TestMain(m *testing.M) {
	beam.Init()
	m.Run()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fixture makes table src in a fresh database: 3 months (partitions) × 40 keys of skewed
// sizes, 3,000 distinct ids, and 300 of them written again in a later insert with a higher
// version (duplicates that FINAL collapses). It returns the ids as FINAL sees them (each once)
// and every row's id (duplicates twice).
func fixture(t *testing.T) (warehouse.Config, driver.Conn, []string, []string) {
	t.Helper()
	cfg := testenv.ClickHouse(t)
	ctx := testCtx(t)
	if _, err := warehouse.Migrate(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Exec(ctx, `CREATE TABLE src (d Date, k String, id String, v UInt64, ver UInt32)
ENGINE = ReplacingMergeTree(ver) PARTITION BY toYYYYMM(d) ORDER BY (d, k, id)`); err != nil {
		t.Fatal(err)
	}
	insert := func(ids []int, ver uint32) {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO src (d, k, id, v, ver)")
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range ids {
			d := time.Date(2026, time.Month(9+i%3), 1+i%28, 0, 0, 0, 0, time.UTC)
			k := fmt.Sprintf("k%02d", (i*i)%40) // skewed: some keys hold many rows
			if err := b.Append(d, k, fmt.Sprintf("id%05d", i), uint64(i), ver); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	var all, dups []int
	for i := range 3000 {
		all = append(all, i)
		if i%10 == 3 {
			dups = append(dups, i)
		}
	}
	insert(all, 1)
	insert(dups, 2)
	var final, raw []string
	for _, i := range all {
		final = append(final, fmt.Sprintf("id%05d", i))
		raw = append(raw, fmt.Sprintf("id%05d", i))
	}
	for _, i := range dups {
		raw = append(raw, fmt.Sprintf("id%05d", i))
	}
	return cfg, conn, final, raw
}

func srcQuery(final bool, prefix int) Query {
	return Query{Table: "src", Final: final, SplitKey: "k", KeyPrefix: prefix,
		Columns: []Column{{Name: "id"}, {Name: "v", Kind: Uint}, {Name: "day", Expr: "toString(d)"}},
		Where:   "d >= toDate(?)", WhereArgs: []string{"2026-01-01"}}
}

// TestSplitsCoverEveryRowOnce reads the fixture through the source's restrictions, split in many
// ways (initial splits, and a dynamic split of each restriction before it is read), and checks
// that the ids read are exactly the table's, each as often as the table (FINAL or not) has it.
func TestSplitsCoverEveryRowOnce(t *testing.T) {
	_, conn, final, raw := fixture(t)
	cases := []struct {
		name      string
		final     bool
		prefix    int
		unitRows  int64
		splitRows int64
		dynamic   float64 // > 0: split each restriction at this fraction before reading it
		wantUnits string  // "": don't check; else SQL counting them
	}{
		{name: "one unit per partition", final: true, unitRows: 1 << 40, splitRows: 1 << 40, wantUnits: "SELECT uniqExact(_partition_id) FROM src"},
		{name: "unit per key", final: true, unitRows: 1, splitRows: 1, wantUnits: "SELECT uniqExact(_partition_id, k) FROM src"},
		{name: "units of 100 rows, splits of 300", final: true, unitRows: 100, splitRows: 300},
		{name: "raw rows, units of 50", final: false, unitRows: 50, splitRows: 200},
		{name: "dynamic split halves", final: true, unitRows: 60, splitRows: 500, dynamic: 0.5},
		{name: "dynamic split early", final: false, unitRows: 60, splitRows: 10_000, dynamic: 0.1},
		{name: "key prefix", final: true, prefix: 2, unitRows: 1, splitRows: 1, wantUnits: "SELECT uniqExact(_partition_id, substring(k, 1, 2)) FROM src"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t)
			q := srcQuery(c.final, c.prefix)
			opt := Options{UnitRows: c.unitRows, SplitRows: c.splitRows, BlockRows: 7}.withDefaults()
			shards, err := Plan(ctx, conn, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(shards) != 3 {
				t.Fatalf("%d shards, want one per month", len(shards))
			}
			units := 0
			got := map[string]int{}
			fn := &readFn{Query: q, Options: opt, conn: conn}
			for _, sh := range shards {
				units += int(sh.Units())
				for _, r := range fn.SplitRestriction(sh, fn.CreateInitialRestriction(sh)) {
					pieces := []offsetrange.Restriction{r}
					if c.dynamic > 0 {
						tr := offsetrange.NewTracker(r)
						p, res, err := tr.TrySplit(c.dynamic)
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
						if err := fn.ProcessElement(ctx, rt, sh, func(b Block) {
							if b.Len == 0 || b.Len > 7 {
								t.Errorf("block of %d rows", b.Len)
							}
							for _, id := range b.Cols[0].Str {
								got[id]++
							}
						}); err != nil {
							t.Fatal(err)
						}
						if !rt.IsDone() {
							t.Errorf("restriction %v not done", piece)
						}
					}
				}
			}
			if c.wantUnits != "" {
				var want uint64
				if err := conn.QueryRow(ctx, c.wantUnits).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if uint64(units) != want {
					t.Errorf("%d units, want %d", units, want)
				}
			}
			want := map[string]int{}
			src := raw
			if c.final {
				src = final
			}
			for _, id := range src {
				want[id]++
			}
			if !maps.Equal(got, want) {
				t.Errorf("read %d distinct ids (%d rows), want %d (%d rows)", len(got), sum(got), len(want), len(src))
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func idsOf(b Block, emit func(string)) {
	for _, id := range b.Cols[0].Str {
		emit(id)
	}
}

// TestReadOnPrism runs Read (planning inside the pipeline) on the Prism runner.
func TestReadOnPrism(t *testing.T) {
	cfg, _, final, _ := fixture(t)
	p, s := beam.NewPipelineWithRoot()
	blocks, err := Read(s, cfg, srcQuery(true, 0), Options{UnitRows: 200, SplitRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	ids := beam.ParDo(s, idsOf, blocks)
	passert.Equals(s, ids, anyStrings(slices.Sorted(slices.Values(final)))...)
	if _, err := beam.Run(testCtx(t), "prism", p); err != nil {
		t.Fatal(err)
	}
}

func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestReadErrors: a query the server refuses fails the read with the table named.
func TestReadErrors(t *testing.T) {
	_, conn, _, _ := fixture(t)
	q := srcQuery(true, 0)
	q.SplitKey = "v" // a number: the plan needs a String key
	if _, err := Plan(testCtx(t), conn, q, Options{}); err == nil {
		t.Error("plan with a numeric split key: no error")
	}
	q = srcQuery(true, 0)
	q.Columns[1].Expr = "no_such_column"
	shards, err := Plan(testCtx(t), conn, q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fn := &readFn{Query: q, Options: Options{}.withDefaults(), conn: conn}
	rt := sdf.NewLockRTracker(offsetrange.NewTracker(fn.CreateInitialRestriction(shards[0])))
	if err := fn.ProcessElement(testCtx(t), rt, shards[0], func(Block) {}); err == nil {
		t.Error("read of a missing column: no error")
	}
}
