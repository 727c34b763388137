package offline

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	register.Function1x1(encodeKeyedBatch)
	register.Function1x2(decodeKeyedBatch)
	beam.RegisterCoder(reflect.TypeOf((*keyedBatch)(nil)).Elem(), encodeKeyedBatch, decodeKeyedBatch)
	beam.RegisterType(reflect.TypeOf((*regionAcc)(nil)).Elem())
	register.DoFn2x0[chsource.Block, func(int, keyedBatch)](&shardRowsFn{})
	register.DoFn3x0[int, func(*keyedBatch) bool, func(string, regionAcc)](&regionRollupFn{})
	register.Function2x1(mergeRegion)
	register.DoFn4x1[context.Context, string, regionAcc, func(int, int64), error](&writeRegionFn{})
	register.Emitter2[int, keyedBatch]()
	register.Emitter2[string, regionAcc]()
	register.Iter1[keyedBatch]()
}

var regionDailyColumns = []string{"event_date", "region_code", "level", "users", "new_users", "events", "page_views",
	"sessions", "dwell_seconds", "visit_depth", "avg_dwell_seconds", "computed_at"}

// userDaysQuery reads the day's rows of dws_user_daily with the given columns (user_key first),
// cut by user key.
func userDaysQuery(day string, cols []chsource.Column) chsource.Query {
	return chsource.Query{Table: "dws_user_daily", Final: true, Columns: cols, Where: "event_date = toDate(?)",
		WhereArgs: []string{day}, SplitKey: "user_key", KeyPrefix: 2}
}

// firstDaysQuery reads the users (user_key, first day) whose first day lies in [from, to].
func firstDaysQuery(from, to string) chsource.Query {
	return chsource.Query{Table: "dws_user_first_day", Columns: []chsource.Column{{Name: "user_key"}, {Name: "first_day", Expr: "minMerge(first_day)"}},
		GroupBy: "user_key", Having: "minMerge(first_day) BETWEEN toDate(?) AND toDate(?)", HavingArgs: []string{from, to},
		SplitKey: "user_key", KeyPrefix: 2}
}

// The columns of a user's day that the region roll-up reads: user_key, region_code, then the
// sums.
var userDayColumns = []chsource.Column{
	{Name: "user_key"}, {Name: "region_code"}, {Name: "events", Kind: chsource.Uint}, {Name: "page_views", Kind: chsource.Uint},
	{Name: "sessions", Kind: chsource.Uint}, {Name: "dwell_seconds", Kind: chsource.Uint},
}

// regionAcc sums users' days in a region.
type regionAcc struct {
	Level                                 string
	Users, NewUsers                       uint64
	Events, PageViews, Sessions, DwellSec uint64
}

// The inputs of a join, as keyedBatch.Input.
const (
	inputDays   = iota // dws_user_daily rows
	inputFirsts        // dws_user_first_day rows
)

// buildRegionDaily: the day's users and the users first seen that day, batched by user shard →
// grouped by shard, joined → per region level → rows.
func buildRegionDaily(s beam.Scope, opt Options, day, stage string) error {
	days, err := chsource.Read(s.Scope("users"), opt.Warehouse, userDaysQuery(day, userDayColumns), opt.Source)
	if err != nil {
		return err
	}
	firsts, err := chsource.Read(s.Scope("new"), opt.Warehouse, firstDaysQuery(day, day), opt.Source)
	if err != nil {
		return err
	}
	shards := beam.GroupByKey(s, beam.Flatten(s,
		beam.ParDo(s.Scope("users"), &shardRowsFn{Shards: opt.Shards, Input: inputDays}, days),
		beam.ParDo(s.Scope("new"), &shardRowsFn{Shards: opt.Shards, Input: inputFirsts}, firsts)))
	regions := beam.CombinePerKey(s, mergeRegion, beam.ParDo(s, &regionRollupFn{}, shards))
	drain(s, beam.ParDo(s, &writeRegionFn{W: newSinkWriter(opt, stage, regionDailyColumns, day)}, regions))
	return nil
}

// keyedBatch is rows of one input of a join whose first column is a user key, of one shard.
type keyedBatch struct {
	Input int
	Keys  []string
	Str   []string   // the second column when it is a String
	Nums  [][]uint64 // the UInt columns after the key (and after Str's column)
}

// shardRowsFn batches a bundle's rows by the shard of their user key (first column), emitting the
// batches when the bundle ends: rows a join needs meet in their shard's group, and few elements
// cross the shuffle. The second column, when a String, goes to Str; UInt columns to Nums.
type shardRowsFn struct {
	Shards int
	Input  int

	batches []keyedBatch
}

func (f *shardRowsFn) StartBundle(_ func(int, keyedBatch)) { f.batches = make([]keyedBatch, f.Shards) }

func (f *shardRowsFn) ProcessElement(b chsource.Block, _ func(int, keyedBatch)) {
	for i := range b.Len {
		key := b.Cols[0].Str[i]
		kb := &f.batches[shardOf(key, f.Shards)]
		kb.Keys = append(kb.Keys, key)
		var nums []uint64
		for _, c := range b.Cols[1:] {
			switch {
			case c.Str != nil:
				kb.Str = append(kb.Str, c.Str[i])
			case c.Uint != nil:
				nums = append(nums, c.Uint[i])
			}
		}
		if nums != nil {
			kb.Nums = append(kb.Nums, nums)
		}
	}
}

func (f *shardRowsFn) FinishBundle(emit func(int, keyedBatch)) {
	for i, b := range f.batches {
		if len(b.Keys) > 0 {
			b.Input = f.Input
			emit(i, b)
		}
	}
	f.batches = nil
}

// regionRollupFn joins a shard's user days with its new users and counts each day in every
// level of the user's region; the sums go out when the bundle ends.
type regionRollupFn struct {
	sums map[string]*regionAcc
}

func (f *regionRollupFn) StartBundle(_ func(string, regionAcc)) { f.sums = map[string]*regionAcc{} }

func (f *regionRollupFn) ProcessElement(_ int, batches func(*keyedBatch) bool, _ func(string, regionAcc)) {
	isNew := map[string]bool{}
	var days []keyedBatch
	var b keyedBatch
	for batches(&b) {
		if b.Input == inputFirsts {
			for _, k := range b.Keys {
				isNew[k] = true
			}
		} else {
			days = append(days, b)
		}
	}
	for _, d := range days {
		for i, key := range d.Keys {
			n := d.Nums[i]
			for _, r := range regionPath(d.Str[i]) {
				sum := f.sums[r.code]
				if sum == nil {
					sum = &regionAcc{Level: r.level}
					f.sums[r.code] = sum
				}
				sum.Users++
				if isNew[key] {
					sum.NewUsers++
				}
				sum.Events, sum.PageViews, sum.Sessions, sum.DwellSec = sum.Events+n[0], sum.PageViews+n[1], sum.Sessions+n[2], sum.DwellSec+n[3]
			}
		}
	}
}

func (f *regionRollupFn) FinishBundle(emit func(string, regionAcc)) {
	for code, sum := range f.sums {
		emit(code, *sum)
	}
	f.sums = nil
}

func mergeRegion(a, b regionAcc) regionAcc {
	return regionAcc{Level: a.Level, Users: a.Users + b.Users, NewUsers: a.NewUsers + b.NewUsers, Events: a.Events + b.Events,
		PageViews: a.PageViews + b.PageViews, Sessions: a.Sessions + b.Sessions, DwellSec: a.DwellSec + b.DwellSec}
}

type writeRegionFn struct {
	W sinkWriter
}

func (f *writeRegionFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeRegionFn) ProcessElement(ctx context.Context, code string, a regionAcc, _ func(int, int64)) error {
	return f.W.write(ctx, code, a.Level, a.Users, a.NewUsers, a.Events, a.PageViews, a.Sessions, a.DwellSec,
		ratio(a.PageViews, a.Sessions), ratio(a.DwellSec, a.Sessions))
}

func (f *writeRegionFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeRegionFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }

func encodeKeyedBatch(b keyedBatch) []byte {
	e := make(enc, 0, 48*len(b.Keys))
	e.uint(uint64(b.Input))
	for _, list := range [][]string{b.Keys, b.Str} {
		e.uint(uint64(len(list)))
		for _, s := range list {
			e.str(s)
		}
	}
	e.uint(uint64(len(b.Nums)))
	for _, nums := range b.Nums {
		e.uint(uint64(len(nums)))
		for _, n := range nums {
			e.uint(n)
		}
	}
	return e.bytes()
}

func decodeKeyedBatch(in []byte) (keyedBatch, error) {
	d := dec{b: in}
	b := keyedBatch{Input: int(d.uint())}
	for _, list := range []*[]string{&b.Keys, &b.Str} {
		if n := d.count(); n > 0 {
			*list = make([]string, n)
			for i := range *list {
				(*list)[i] = d.str()
			}
		}
	}
	if n := d.count(); n > 0 {
		b.Nums = make([][]uint64, n)
		for i := range b.Nums {
			b.Nums[i] = make([]uint64, d.count())
			for j := range b.Nums[i] {
				b.Nums[i][j] = d.uint()
			}
		}
	}
	return b, d.done()
}
