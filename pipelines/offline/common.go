package offline

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsink"
	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	register.Function2x1(sumCounts)
	register.DoFn2x0[int, int64](&discardFn{})
	register.Emitter2[int, int64]()
}

// eventsQuery reads the day's events with FINAL (one row per message id), cut by region code
// (the sorting key's column after event_date). extra, when set, narrows the rows further; it
// must only test fields that every copy of an event shares (the event's own fields).
func eventsQuery(day string, cols []chsource.Column, extra string, extraArgs ...string) chsource.Query {
	where := "event_date = toDate(?)"
	if extra != "" {
		where += " AND (" + extra + ")"
	}
	return chsource.Query{Table: "dwd_events", Final: true, Columns: cols, Where: where,
		WhereArgs: append([]string{day}, extraArgs...), SplitKey: "region_code"}
}

// sessionHash identifies a session within a user's day by a 64-bit hash of its id, 0 for
// events without one (the hash of a real id is not 0 but for one id in 2^64): a number is
// cheaper to read, keep and shuffle than the id, and two sessions of one user colliding is as
// unlikely as a hardware fault.
const sessionHash = "if(session_id = '', 0, cityHash64(session_id))"

// sinkWriter is the part every job's write DoFn shares: the shared ClickHouse sink into the
// run's staging table, and the run's day.
type sinkWriter struct {
	Sink chsink.Sink
	Day  string

	day  time.Time
	rows int64 // written in the bundle
}

func newSinkWriter(opt Options, stage string, columns []string, day string) sinkWriter {
	return sinkWriter{Day: day, Sink: chsink.Sink{Warehouse: opt.Warehouse, Table: stage, Columns: columns,
		BatchRows: opt.BatchRows, Namespace: counterNamespace}}
}

func (w *sinkWriter) open(ctx context.Context) error {
	d, err := time.Parse(time.DateOnly, w.Day)
	if err != nil {
		return fmt.Errorf("day %q: %w", w.Day, err)
	}
	w.day = d
	return w.Sink.Open(ctx)
}

// flush writes the bundle's rows and emits their count.
func (w *sinkWriter) flush(ctx context.Context, emit func(int, int64)) error {
	if err := w.Sink.Flush(ctx); err != nil {
		return err
	}
	emit(0, w.rows)
	w.rows = 0
	return nil
}

// write buffers one row; the values follow the day (event_date) and precede computed_at, the
// bundle's load time.
func (w *sinkWriter) write(ctx context.Context, vals ...any) error {
	return w.writeAt(ctx, w.Sink.LoadedAt(), vals...)
}

// writeAt buffers one row with the given computed_at.
func (w *sinkWriter) writeAt(ctx context.Context, computedAt time.Time, vals ...any) error {
	row := make([]any, 0, len(vals)+2)
	row = append(row, w.day)
	row = append(row, vals...)
	row = append(row, computedAt)
	w.rows++
	return w.Sink.Write(ctx, row)
}

// shardOf is the shard of a user key (FNV-1a, so every worker agrees): the partial results of
// one user always meet in the same shard's group.
func shardOf(key string, shards int) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % uint32(max(shards, 1)))
}

// drain ends a pipeline at the write DoFns' per-bundle row counts. The write stages have an
// output only so that Prism (v2.77) does not busy-wait in its progress loop while they run (its
// loop spins on a closed channel for stages without outputs, taking a core from the sink).
func drain(s beam.Scope, counts beam.PCollection) {
	beam.ParDo0(s, &discardFn{}, beam.CombinePerKey(s, sumCounts, counts))
}

func sumCounts(a, b int64) int64 { return a + b }

type discardFn struct{}

func (*discardFn) ProcessElement(int, int64) {}

// ratio is a / b, or 0 when b is 0.
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// regionLevel is one code of a region path with its level.
type regionLevel struct{ code, level string }

// regionPath returns the regions an event or user with the given region code counts in, city
// first: the city (4 significant digits), district (6), street (9) and community (12) codes,
// each padded with zeros, without repeats (a street's own code has no community). Anything but
// 12 digits counts in the unknown region "" only.
func regionPath(code string) []regionLevel {
	if len(code) != 12 {
		return []regionLevel{{"", ""}}
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return []regionLevel{{"", ""}}
		}
	}
	out := make([]regionLevel, 0, 4)
	for i, n := range []int{4, 6, 9, 12} {
		c := code[:n] + "000000000000"[:12-n]
		if len(out) == 0 || out[len(out)-1].code != c {
			out = append(out, regionLevel{c, [...]string{"city", "district", "street", "community"}[i]})
		}
	}
	return out
}
