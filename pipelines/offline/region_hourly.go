package offline

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	register.Function1x1(encodeHourBatch)
	register.Function1x2(decodeHourBatch)
	beam.RegisterCoder(reflect.TypeOf((*hourBatch)(nil)).Elem(), encodeHourBatch, decodeHourBatch)
	beam.RegisterType(reflect.TypeOf((*hourAcc)(nil)).Elem())
	register.DoFn2x0[chsource.Block, func(int, hourBatch)](&hourBundleFn{})
	register.DoFn3x0[int, func(*hourBatch) bool, func(string, hourAcc)](&hourRollupFn{})
	register.Function2x1(mergeHourAcc)
	register.DoFn4x1[context.Context, string, hourAcc, func(int, int64), error](&writeHourFn{})
	register.Emitter2[int, hourBatch]()
	register.Emitter2[string, hourAcc]()
	register.Iter1[hourBatch]()
}

// The hour's events as region_hourly reads them, by column index.
var hourEventColumns = []chsource.Column{
	{Name: "user_key"}, {Name: "session", Expr: sessionHash, Kind: chsource.Uint},
	{Name: "view", Expr: "type IN ('page', 'screen')", Kind: chsource.Uint},
	{Name: "service_id", Kind: chsource.Uint}, {Name: "region_code"},
}

const (
	heKey = iota
	heSession
	heView
	heService
	heRegion
)

var regionHourlyColumns = []string{"event_date", "event_hour", "region_code", "level", "service_id", "users", "events",
	"page_views", "sessions", "computed_at"}

// hourQuery reads the events of the hour [from, to) (Unix seconds) of the day with FINAL, cut by
// region code. event_time is the event's own field, the same in every copy of it.
func hourQuery(day string, from, to int64, cols []chsource.Column) chsource.Query {
	return chsource.Query{Table: "dwd_events", Final: true, Columns: cols,
		Where:     "event_date = toDate(?) AND event_time >= toDateTime(toUInt32(?)) AND event_time < toDateTime(toUInt32(?))",
		WhereArgs: []string{day, strconv.FormatInt(from, 10), strconv.FormatInt(to, 10)}, SplitKey: "region_code"}
}

// hourCell is one user's events of the hour in one region (as the event has it) and service.
type hourCell struct {
	Region            string
	Service           uint32
	Events, PageViews uint64
	Sessions          []uint64 // distinct sessionHash values (no 0); sorted once emitted
}

// hourBatch holds partial hours of users of one shard (Keys[i]'s cells are Cells[i]).
type hourBatch struct {
	Keys  []string
	Cells [][]hourCell
}

// hourAcc sums users at one output key (region, service).
type hourAcc struct {
	Region, Level                      string
	Service                            uint32
	Users, Events, PageViews, Sessions uint64
}

// buildRegionHourly: the hour's events → per user and (region, service) cell, batched by user
// shard → grouped by shard, merged per user, counted at every level of each cell's region and
// for its service and for all services (0) → summed per key → rows.
func buildRegionHourly(s beam.Scope, opt Options, h hourRange, stage string) error {
	blocks, err := chsource.Read(s, opt.Warehouse, hourQuery(h.day, h.from.Unix(), h.to.Unix(), hourEventColumns), opt.Source)
	if err != nil {
		return err
	}
	users := beam.GroupByKey(s, beam.ParDo(s, &hourBundleFn{Shards: opt.Shards}, blocks))
	sums := beam.CombinePerKey(s, mergeHourAcc, beam.ParDo(s, &hourRollupFn{}, users))
	drain(s, beam.ParDo(s, &writeHourFn{W: newSinkWriter(opt, stage, regionHourlyColumns, h.day), Hour: h.from.Unix(), Version: h.version}, sums))
	return nil
}

// cell returns the user's cell for the region and service, adding it.
func cellOf(cells *[]hourCell, region string, service uint32) *hourCell {
	for i := range *cells {
		if c := &(*cells)[i]; c.Region == region && c.Service == service {
			return c
		}
	}
	*cells = append(*cells, hourCell{Region: region, Service: service})
	return &(*cells)[len(*cells)-1]
}

// hourBundleFn folds a bundle's events into one partial per user, emitted in one batch per user
// shard when the bundle ends.
type hourBundleFn struct {
	Shards int

	users map[string]*[]hourCell
}

func (f *hourBundleFn) StartBundle(_ func(int, hourBatch)) { f.users = map[string]*[]hourCell{} }

func (f *hourBundleFn) ProcessElement(b chsource.Block, _ func(int, hourBatch)) {
	c := b.Cols
	for i := range b.Len {
		u := f.users[c[heKey].Str[i]]
		if u == nil {
			u = &[]hourCell{}
			f.users[c[heKey].Str[i]] = u
		}
		cell := cellOf(u, c[heRegion].Str[i], uint32(c[heService].Uint[i]))
		cell.Events++
		cell.PageViews += c[heView].Uint[i]
		if s := c[heSession].Uint[i]; s != 0 && !slices.Contains(cell.Sessions, s) {
			cell.Sessions = append(cell.Sessions, s)
		}
	}
}

func (f *hourBundleFn) FinishBundle(emit func(int, hourBatch)) {
	batches := make([]hourBatch, f.Shards)
	for key, cells := range f.users {
		for i := range *cells {
			slices.Sort((*cells)[i].Sessions)
		}
		b := &batches[shardOf(key, f.Shards)]
		b.Keys, b.Cells = append(b.Keys, key), append(b.Cells, *cells)
	}
	for i, b := range batches {
		if len(b.Keys) > 0 {
			emit(i, b)
		}
	}
	f.users = nil
}

// hourKey is an output key: a region code of one level and a service (0: all).
type hourKey struct {
	region  string
	service uint32
}

// userAtKey is one user's events at an output key.
type userAtKey struct {
	level             string
	events, pageViews uint64
	sessions          []uint64
}

// hourRollupFn merges the partials of a shard's users and counts each user once at every output
// key their cells reach; the sums go out when the bundle ends.
type hourRollupFn struct {
	sums map[hourKey]*hourAcc
	mine map[hourKey]*userAtKey // one user's keys, reused
}

func (f *hourRollupFn) StartBundle(_ func(string, hourAcc)) {
	f.sums, f.mine = map[hourKey]*hourAcc{}, map[hourKey]*userAtKey{}
}

func (f *hourRollupFn) ProcessElement(_ int, batches func(*hourBatch) bool, _ func(string, hourAcc)) {
	var first, b hourBatch
	if !batches(&first) {
		return
	}
	if !batches(&b) { // one batch: every user is whole already
		for _, cells := range first.Cells {
			f.add(cells)
		}
		return
	}
	users := map[string]*[]hourCell{}
	merge := func(batch hourBatch) {
		for i, key := range batch.Keys {
			u := users[key]
			if u == nil {
				u = &[]hourCell{}
				users[key] = u
			}
			for _, c := range batch.Cells[i] {
				m := cellOf(u, c.Region, c.Service)
				m.Events, m.PageViews = m.Events+c.Events, m.PageViews+c.PageViews
				m.Sessions = mergeSorted(m.Sessions, c.Sessions)
			}
		}
	}
	merge(first)
	merge(b)
	for batches(&b) {
		merge(b)
	}
	for _, cells := range users {
		f.add(*cells)
	}
}

// add counts one user's whole hour.
func (f *hourRollupFn) add(cells []hourCell) {
	clear(f.mine)
	for _, c := range cells {
		services := []uint32{0, c.Service}
		if c.Service == 0 {
			services = services[:1]
		}
		for _, r := range regionPath(c.Region) {
			for _, svc := range services {
				k := hourKey{r.code, svc}
				u := f.mine[k]
				if u == nil {
					u = &userAtKey{level: r.level}
					f.mine[k] = u
				}
				u.events, u.pageViews = u.events+c.Events, u.pageViews+c.PageViews
				switch {
				case len(u.sessions) == 0:
					u.sessions = c.Sessions // shared, never changed in place
				case len(c.Sessions) > 0:
					u.sessions = mergeSorted(u.sessions, c.Sessions)
				}
			}
		}
	}
	for k, u := range f.mine {
		sum := f.sums[k]
		if sum == nil {
			sum = &hourAcc{Region: k.region, Level: u.level, Service: k.service}
			f.sums[k] = sum
		}
		sum.Users++
		sum.Events, sum.PageViews, sum.Sessions = sum.Events+u.events, sum.PageViews+u.pageViews, sum.Sessions+uint64(len(u.sessions))
	}
}

func (f *hourRollupFn) FinishBundle(emit func(string, hourAcc)) {
	for k, sum := range f.sums {
		emit(k.region+"/"+strconv.FormatUint(uint64(k.service), 10), *sum)
	}
	f.sums = nil
}

func mergeHourAcc(a, b hourAcc) hourAcc {
	a.Users, a.Events, a.PageViews, a.Sessions = a.Users+b.Users, a.Events+b.Events, a.PageViews+b.PageViews, a.Sessions+b.Sessions
	return a
}

// writeHourFn writes the hour's rows, all with the run's version as computed_at.
type writeHourFn struct {
	W             sinkWriter
	Hour, Version int64 // Unix seconds
}

func (f *writeHourFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeHourFn) ProcessElement(ctx context.Context, _ string, a hourAcc, _ func(int, int64)) error {
	return f.W.writeAt(ctx, time.Unix(f.Version, 0), time.Unix(f.Hour, 0), a.Region, a.Level, a.Service,
		a.Users, a.Events, a.PageViews, a.Sessions)
}

func (f *writeHourFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeHourFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }

func encodeHourBatch(b hourBatch) []byte {
	e := make(enc, 0, 64*len(b.Keys))
	e.uint(uint64(len(b.Keys)))
	for i, key := range b.Keys {
		e.str(key)
		e.uint(uint64(len(b.Cells[i])))
		for _, c := range b.Cells[i] {
			e.str(c.Region)
			e.uint(uint64(c.Service))
			e.uint(c.Events)
			e.uint(c.PageViews)
			e.uint(uint64(len(c.Sessions)))
			for _, s := range c.Sessions {
				e.uint(s)
			}
		}
	}
	return e.bytes()
}

func decodeHourBatch(in []byte) (hourBatch, error) {
	d := dec{b: in}
	n := d.count()
	b := hourBatch{Keys: make([]string, n), Cells: make([][]hourCell, n)}
	for k := range n {
		b.Keys[k] = d.str()
		cells := make([]hourCell, d.count())
		for i := range cells {
			c := &cells[i]
			c.Region, c.Service, c.Events, c.PageViews = d.str(), uint32(d.uint()), d.uint(), d.uint()
			if n := d.count(); n > 0 {
				c.Sessions = make([]uint64, n)
				for j := range c.Sessions {
					c.Sessions[j] = d.uint()
				}
			}
		}
		b.Cells[k] = cells
	}
	return b, d.done()
}
