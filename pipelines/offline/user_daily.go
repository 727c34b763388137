package offline

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	register.Function1x1(encodeUserBatch)
	register.Function1x2(decodeUserBatch)
	beam.RegisterCoder(reflect.TypeOf((*userBatch)(nil)).Elem(), encodeUserBatch, decodeUserBatch)
	register.DoFn2x0[chsource.Block, func(int, userBatch)](&userBundleFn{})
	register.DoFn4x1[context.Context, int, func(*userBatch) bool, func(int, int64), error](&writeUserFn{})
	register.Emitter2[int, userBatch]()
	register.Iter1[userBatch]()
}

// The day's events as user_daily reads them, by column index. Flags are computed in the query
// (a projection per row), so the rows cross the wire small.
var userEventColumns = []chsource.Column{
	{Name: "user_key"}, {Name: "registered", Expr: "user_id != ''", Kind: chsource.Uint},
	{Name: "session", Expr: sessionHash, Kind: chsource.Uint},
	{Name: "view", Expr: "type IN ('page', 'screen')", Kind: chsource.Uint},
	{Name: "event_time", Kind: chsource.Int}, {Name: "service_id", Kind: chsource.Uint}, {Name: "region_code"},
}

const (
	ueKey = iota
	ueRegistered
	ueSession
	ueView
	ueTime
	ueService
	ueRegion
)

var userDailyColumns = []string{"event_date", "user_key", "user_id", "region_code", "events", "page_views",
	"sessions", "dwell_seconds", "services", "first_time", "last_time", "computed_at"}

// userAcc is what is known of a user's day so far.
type userAcc struct {
	// Registered: an event had a user id (then the user key is that id).
	Registered  bool
	Events      uint64
	PageViews   uint64
	First, Last int64
	// Region is the region code of the earliest event that had one (ties: the smallest code),
	// at RegionTime; "" when none had one.
	Region     string
	RegionTime int64
	// Sessions are sorted by ID; Services sorted, without 0 (once merged or emitted).
	Sessions []span
	Services []uint32
}

// span is a session's first and last event time.
type span struct {
	ID          uint64 // sessionHash of the session id
	First, Last int64
}

// add counts one event.
func (u *userAcc) add(registered bool, session uint64, view bool, t int64, service uint32, region string) {
	u.Events++
	if view {
		u.PageViews++
	}
	u.First, u.Last = min(u.First, t), max(u.Last, t)
	u.Registered = u.Registered || registered
	if region != "" && (u.Region == "" || t < u.RegionTime || (t == u.RegionTime && region < u.Region)) {
		u.Region, u.RegionTime = region, t
	}
	if session != 0 {
		i := slices.IndexFunc(u.Sessions, func(s span) bool { return s.ID == session })
		if i < 0 {
			u.Sessions = append(u.Sessions, span{ID: session, First: t, Last: t})
		} else {
			s := &u.Sessions[i]
			s.First, s.Last = min(s.First, t), max(s.Last, t)
		}
	}
	if service != 0 && !slices.Contains(u.Services, service) {
		u.Services = append(u.Services, service)
	}
}

// userBatch holds partial days of users of one shard (Keys[i]'s is Accs[i]).
type userBatch struct {
	Keys []string
	Accs []userAcc
}

// buildUserDaily: events → per-bundle partial users, batched by user shard → grouped by shard,
// merged per user and written.
func buildUserDaily(s beam.Scope, opt Options, day, stage string) error {
	blocks, err := chsource.Read(s, opt.Warehouse, eventsQuery(day, userEventColumns, ""), opt.Source)
	if err != nil {
		return err
	}
	partials := beam.ParDo(s, &userBundleFn{Shards: opt.Shards}, blocks)
	drain(s, beam.ParDo(s, &writeUserFn{W: newSinkWriter(opt, stage, userDailyColumns, day)}, beam.GroupByKey(s, partials)))
	return nil
}

// userBundleFn folds a bundle's events into one partial per user; when the bundle ends it emits
// them in one batch per user shard (combiner lifting by hand, and few large elements through
// the shuffle instead of one per user).
type userBundleFn struct {
	Shards int

	users map[string]*userAcc
}

func (f *userBundleFn) StartBundle(_ func(int, userBatch)) { f.users = map[string]*userAcc{} }

func (f *userBundleFn) ProcessElement(b chsource.Block, _ func(int, userBatch)) {
	keys, reg, sess, views := b.Cols[ueKey].Str, b.Cols[ueRegistered].Uint, b.Cols[ueSession].Uint, b.Cols[ueView].Uint
	times, svcs, regions := b.Cols[ueTime].Int, b.Cols[ueService].Uint, b.Cols[ueRegion].Str
	for i := range b.Len {
		u := f.users[keys[i]]
		if u == nil {
			u = &userAcc{First: times[i], Last: times[i]}
			f.users[keys[i]] = u
		}
		u.add(reg[i] != 0, sess[i], views[i] != 0, times[i], uint32(svcs[i]), regions[i])
	}
}

func (f *userBundleFn) FinishBundle(emit func(int, userBatch)) {
	batches := make([]userBatch, f.Shards)
	for key, u := range f.users {
		u.sort()
		b := &batches[shardOf(key, f.Shards)]
		b.Keys, b.Accs = append(b.Keys, key), append(b.Accs, *u)
	}
	for i, b := range batches {
		if len(b.Keys) > 0 {
			emit(i, b)
		}
	}
	f.users = nil
}

func (u *userAcc) sort() {
	slices.SortFunc(u.Sessions, func(a, b span) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(u.Services)
}

// mergeUser combines two partials of one user.
func mergeUser(a, b userAcc) userAcc {
	out := userAcc{
		Registered: a.Registered || b.Registered, Events: a.Events + b.Events, PageViews: a.PageViews + b.PageViews,
		First: min(a.First, b.First), Last: max(a.Last, b.Last), Region: a.Region, RegionTime: a.RegionTime,
	}
	if b.Region != "" && (out.Region == "" || b.RegionTime < out.RegionTime || (b.RegionTime == out.RegionTime && b.Region < out.Region)) {
		out.Region, out.RegionTime = b.Region, b.RegionTime
	}
	out.Sessions = mergeSpans(a.Sessions, b.Sessions)
	out.Services = mergeSorted(a.Services, b.Services)
	return out
}

// mergeSpans merges two ID-sorted span lists, joining spans of the same session.
func mergeSpans(a, b []span) []span {
	out := make([]span, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].ID < b[0].ID):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || b[0].ID < a[0].ID:
			out, b = append(out, b[0]), b[1:]
		default:
			out = append(out, span{ID: a[0].ID, First: min(a[0].First, b[0].First), Last: max(a[0].Last, b[0].Last)})
			a, b = a[1:], b[1:]
		}
	}
	return out
}

// mergeSorted is the sorted union of two sorted lists without repeats.
func mergeSorted[T cmp.Ordered](a, b []T) []T {
	out := append(append(make([]T, 0, len(a)+len(b)), a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// writeUserFn merges the partials of a shard's users and writes each user's day.
type writeUserFn struct {
	W sinkWriter
}

func (f *writeUserFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeUserFn) ProcessElement(ctx context.Context, _ int, batches func(*userBatch) bool, _ func(int, int64)) error {
	var first userBatch
	if !batches(&first) {
		return nil
	}
	var b userBatch
	if !batches(&b) { // one batch: every user is whole already
		for i, key := range first.Keys {
			if err := f.writeUser(ctx, key, first.Accs[i]); err != nil {
				return err
			}
		}
		return nil
	}
	users := map[string]userAcc{}
	for _, batch := range []userBatch{first, b} {
		for i, key := range batch.Keys {
			users[key] = mergeIfAny(users, key, batch.Accs[i])
		}
	}
	for batches(&b) {
		for i, key := range b.Keys {
			users[key] = mergeIfAny(users, key, b.Accs[i])
		}
	}
	for key, u := range users {
		if err := f.writeUser(ctx, key, u); err != nil {
			return err
		}
	}
	return nil
}

func mergeIfAny(users map[string]userAcc, key string, u userAcc) userAcc {
	if prev, ok := users[key]; ok {
		return mergeUser(prev, u)
	}
	return u
}

func (f *writeUserFn) writeUser(ctx context.Context, key string, u userAcc) error {
	var dwell uint64
	for _, s := range u.Sessions {
		dwell += uint64(s.Last - s.First)
	}
	services := u.Services
	if services == nil {
		services = []uint32{}
	}
	userID := ""
	if u.Registered {
		userID = key
	}
	return f.W.write(ctx, key, userID, u.Region, u.Events, u.PageViews, uint64(len(u.Sessions)), dwell,
		services, time.Unix(u.First, 0), time.Unix(u.Last, 0))
}

func (f *writeUserFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeUserFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }

func encodeUserBatch(b userBatch) []byte {
	e := make(enc, 0, 96*len(b.Keys))
	e.uint(uint64(len(b.Keys)))
	for i, key := range b.Keys {
		e.str(key)
		e.userAcc(b.Accs[i])
	}
	return e.bytes()
}

func decodeUserBatch(in []byte) (userBatch, error) {
	d := dec{b: in}
	n := d.count()
	b := userBatch{Keys: make([]string, n), Accs: make([]userAcc, n)}
	for i := range n {
		b.Keys[i], b.Accs[i] = d.str(), d.userAcc()
	}
	return b, d.done()
}

func (e *enc) userAcc(u userAcc) {
	reg := uint64(0)
	if u.Registered {
		reg = 1
	}
	e.uint(reg)
	e.uint(u.Events)
	e.uint(u.PageViews)
	e.int(u.First)
	e.int(u.Last)
	e.str(u.Region)
	e.int(u.RegionTime)
	e.uint(uint64(len(u.Sessions)))
	for _, s := range u.Sessions {
		e.uint(s.ID)
		e.int(s.First)
		e.int(s.Last)
	}
	e.uint(uint64(len(u.Services)))
	for _, s := range u.Services {
		e.uint(uint64(s))
	}
}

func (d *dec) userAcc() userAcc {
	u := userAcc{Registered: d.uint() == 1, Events: d.uint(), PageViews: d.uint(), First: d.int(), Last: d.int(),
		Region: d.str(), RegionTime: d.int()}
	if n := d.count(); n > 0 {
		u.Sessions = make([]span, n)
		for i := range u.Sessions {
			u.Sessions[i] = span{ID: d.uint(), First: d.int(), Last: d.int()}
		}
	}
	if n := d.count(); n > 0 {
		u.Services = make([]uint32, n)
		for i := range u.Services {
			u.Services[i] = uint32(d.uint())
		}
	}
	return u
}
