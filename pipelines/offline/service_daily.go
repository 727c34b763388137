package offline

import (
	"cmp"
	"context"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	register.Function1x1(encodeServiceBatch)
	register.Function1x2(decodeServiceBatch)
	beam.RegisterCoder(reflect.TypeOf((*serviceBatch)(nil)).Elem(), encodeServiceBatch, decodeServiceBatch)
	beam.RegisterType(reflect.TypeOf((*serviceAcc)(nil)).Elem())
	register.DoFn2x0[chsource.Block, func(int, serviceBatch)](&serviceBundleFn{})
	register.DoFn3x0[int, func(*serviceBatch) bool, func(uint32, serviceAcc)](&serviceUserFn{})
	register.Function2x1(mergeService)
	register.DoFn4x1[context.Context, uint32, serviceAcc, func(int, int64), error](&writeServiceFn{})
	register.Emitter2[int, serviceBatch]()
	register.Emitter2[uint32, serviceAcc]()
	register.Iter1[serviceBatch]()
}

// Track events of the service funnel (the simulator's and the tracking plan's names).
const (
	EventServiceOpen     = "service_open"
	EventServiceComplete = "service_complete"
	EventSearch          = "search"
)

// FunnelSteps names the service funnel's steps: a view (page or screen event), then
// service_open, then service_complete.
var FunnelSteps = []string{"view", EventServiceOpen, EventServiceComplete}

// What an event is to its service (the kind column): a funnel step (kindView … kindComplete =
// step + 1), a search, or something else.
const (
	kindOther = iota
	kindView
	kindOpen
	kindComplete
	kindSearch
)

var serviceEventColumns = []chsource.Column{
	{Name: "user_key"}, {Name: "session", Expr: sessionHash, Kind: chsource.Uint},
	{Name: "kind", Kind: chsource.Uint, Expr: `multiIf(type IN ('page', 'screen'), 1, type = 'track' AND event = 'service_open', 2,
type = 'track' AND event = 'service_complete', 3, type = 'track' AND event = 'search', 4, 0)`},
	{Name: "event_time", Kind: chsource.Int}, {Name: "service_id", Kind: chsource.Uint},
}

const (
	seKey = iota
	seSession
	seKind
	seTime
	seService
)

var serviceDailyColumns = []string{"event_date", "service_id", "users", "events", "page_views", "sessions", "searches",
	"opens", "completes", "funnel_view", "funnel_open", "funnel_complete", "computed_at"}

// userServices is a user's day with each service they used (sorted by service once emitted).
type userServices struct {
	Services []serviceUse
}

// serviceUse is one user's day with one service.
type serviceUse struct {
	Service                                       uint32
	Events, PageViews, Searches, Opens, Completes uint64
	Sessions                                      []uint64 // distinct sessionHash values (no 0); sorted once emitted
	Steps                                         []step
}

// serviceBatch holds partial days of users of one shard (Keys[i]'s is Users[i]).
type serviceBatch struct {
	Keys  []string
	Users []userServices
}

// serviceAcc sums a service's users.
type serviceAcc struct {
	Users, Events, PageViews, Sessions, Searches, Opens, Completes uint64
	Funnel                                                         [3]uint64
}

// buildServiceDaily: events with a service → per user (every service's use), batched by user
// shard → grouped by shard, merged per user → per service.
func buildServiceDaily(s beam.Scope, opt Options, day, stage string) error {
	blocks, err := chsource.Read(s, opt.Warehouse, eventsQuery(day, serviceEventColumns, "service_id != 0"), opt.Source)
	if err != nil {
		return err
	}
	users := beam.GroupByKey(s, beam.ParDo(s, &serviceBundleFn{Shards: opt.Shards}, blocks))
	perService := beam.CombinePerKey(s, mergeService, beam.ParDo(s, &serviceUserFn{Window: opt.FunnelWindow}, users))
	drain(s, beam.ParDo(s, &writeServiceFn{W: newSinkWriter(opt, stage, serviceDailyColumns, day)}, perService))
	return nil
}

// use returns the user's entry for the service, adding it.
func (u *userServices) use(service uint32) *serviceUse {
	for i := range u.Services {
		if u.Services[i].Service == service {
			return &u.Services[i]
		}
	}
	u.Services = append(u.Services, serviceUse{Service: service})
	return &u.Services[len(u.Services)-1]
}

// merge adds another partial of the same user and service.
func (a *serviceUse) merge(b serviceUse) {
	a.Events, a.PageViews, a.Searches = a.Events+b.Events, a.PageViews+b.PageViews, a.Searches+b.Searches
	a.Opens, a.Completes = a.Opens+b.Opens, a.Completes+b.Completes
	a.Sessions = mergeSorted(a.Sessions, b.Sessions)
	a.Steps = append(a.Steps, b.Steps...)
}

// serviceBundleFn folds a bundle's events into one partial per user, emitted in one batch per
// user shard when the bundle ends.
type serviceBundleFn struct {
	Shards int

	users map[string]*userServices
}

func (f *serviceBundleFn) StartBundle(_ func(int, serviceBatch)) {
	f.users = map[string]*userServices{}
}

func (f *serviceBundleFn) ProcessElement(b chsource.Block, _ func(int, serviceBatch)) {
	c := b.Cols
	for i := range b.Len {
		svc := uint32(c[seService].Uint[i])
		if svc == 0 {
			continue
		}
		u := f.users[c[seKey].Str[i]]
		if u == nil {
			u = &userServices{}
			f.users[c[seKey].Str[i]] = u
		}
		a := u.use(svc)
		a.Events++
		t := c[seTime].Int[i]
		switch k := c[seKind].Uint[i]; k {
		case kindView, kindOpen, kindComplete:
			a.Steps = append(a.Steps, step{T: t, S: uint8(k - kindView)})
			switch k {
			case kindView:
				a.PageViews++
			case kindOpen:
				a.Opens++
			default:
				a.Completes++
			}
		case kindSearch:
			a.Searches++
		}
		if s := c[seSession].Uint[i]; s != 0 && !slices.Contains(a.Sessions, s) {
			a.Sessions = append(a.Sessions, s)
		}
	}
}

func (f *serviceBundleFn) FinishBundle(emit func(int, serviceBatch)) {
	batches := make([]serviceBatch, f.Shards)
	for key, u := range f.users {
		for i := range u.Services {
			slices.Sort(u.Services[i].Sessions)
		}
		slices.SortFunc(u.Services, func(a, b serviceUse) int { return cmp.Compare(a.Service, b.Service) })
		b := &batches[shardOf(key, f.Shards)]
		b.Keys, b.Users = append(b.Keys, key), append(b.Users, *u)
	}
	for i, b := range batches {
		if len(b.Keys) > 0 {
			emit(i, b)
		}
	}
	f.users = nil
}

// serviceUserFn merges the partials of a shard's users and adds each user's use of each service
// (and the funnel step reached) to per-service sums, emitted when the bundle ends.
type serviceUserFn struct {
	Window int64

	sums map[uint32]*serviceAcc
}

func (f *serviceUserFn) StartBundle(_ func(uint32, serviceAcc)) { f.sums = map[uint32]*serviceAcc{} }

func (f *serviceUserFn) ProcessElement(_ int, batches func(*serviceBatch) bool, _ func(uint32, serviceAcc)) {
	var first, b serviceBatch
	if !batches(&first) {
		return
	}
	if !batches(&b) { // one batch: every user is whole already
		for _, u := range first.Users {
			f.add(u)
		}
		return
	}
	users := map[string]*userServices{}
	merge := func(batch serviceBatch) {
		for i, key := range batch.Keys {
			u := users[key]
			if u == nil {
				u = &userServices{}
				users[key] = u
			}
			for _, use := range batch.Users[i].Services {
				u.use(use.Service).merge(use)
			}
		}
	}
	merge(first)
	merge(b)
	for batches(&b) {
		merge(b)
	}
	for _, u := range users {
		f.add(*u)
	}
}

// add counts a user's whole day in the sums of the services they used.
func (f *serviceUserFn) add(u userServices) {
	for _, a := range u.Services {
		sum := f.sums[a.Service]
		if sum == nil {
			sum = &serviceAcc{}
			f.sums[a.Service] = sum
		}
		sum.Users++
		sum.Events, sum.PageViews, sum.Sessions = sum.Events+a.Events, sum.PageViews+a.PageViews, sum.Sessions+uint64(len(a.Sessions))
		sum.Searches, sum.Opens, sum.Completes = sum.Searches+a.Searches, sum.Opens+a.Opens, sum.Completes+a.Completes
		for k := range funnelLevel(a.Steps, len(FunnelSteps), f.Window) {
			sum.Funnel[k]++
		}
	}
}

func (f *serviceUserFn) FinishBundle(emit func(uint32, serviceAcc)) {
	for svc, sum := range f.sums {
		emit(svc, *sum)
	}
	f.sums = nil
}

func mergeService(a, b serviceAcc) serviceAcc {
	out := serviceAcc{Users: a.Users + b.Users, Events: a.Events + b.Events, PageViews: a.PageViews + b.PageViews,
		Sessions: a.Sessions + b.Sessions, Searches: a.Searches + b.Searches, Opens: a.Opens + b.Opens, Completes: a.Completes + b.Completes}
	for k := range out.Funnel {
		out.Funnel[k] = a.Funnel[k] + b.Funnel[k]
	}
	return out
}

type writeServiceFn struct {
	W sinkWriter
}

func (f *writeServiceFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeServiceFn) ProcessElement(ctx context.Context, svc uint32, a serviceAcc, _ func(int, int64)) error {
	return f.W.write(ctx, svc, a.Users, a.Events, a.PageViews, a.Sessions, a.Searches, a.Opens, a.Completes,
		a.Funnel[0], a.Funnel[1], a.Funnel[2])
}

func (f *writeServiceFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeServiceFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }

func encodeServiceBatch(b serviceBatch) []byte {
	e := make(enc, 0, 96*len(b.Keys))
	e.uint(uint64(len(b.Keys)))
	for i, key := range b.Keys {
		e.str(key)
		u := b.Users[i]
		e.uint(uint64(len(u.Services)))
		for _, a := range u.Services {
			e.uint(uint64(a.Service))
			e.uint(a.Events)
			e.uint(a.PageViews)
			e.uint(a.Searches)
			e.uint(a.Opens)
			e.uint(a.Completes)
			e.uint(uint64(len(a.Sessions)))
			for _, s := range a.Sessions {
				e.uint(s)
			}
			e.uint(uint64(len(a.Steps)))
			for _, s := range a.Steps {
				e.int(s.T)
				e.uint(uint64(s.S))
			}
		}
	}
	return e.bytes()
}

func decodeServiceBatch(in []byte) (serviceBatch, error) {
	d := dec{b: in}
	n := d.count()
	b := serviceBatch{Keys: make([]string, n), Users: make([]userServices, n)}
	for k := range n {
		b.Keys[k] = d.str()
		u := &b.Users[k]
		if n := d.count(); n > 0 {
			u.Services = make([]serviceUse, n)
			for i := range u.Services {
				a := &u.Services[i]
				a.Service, a.Events, a.PageViews = uint32(d.uint()), d.uint(), d.uint()
				a.Searches, a.Opens, a.Completes = d.uint(), d.uint(), d.uint()
				if n := d.count(); n > 0 {
					a.Sessions = make([]uint64, n)
					for j := range a.Sessions {
						a.Sessions[j] = d.uint()
					}
				}
				if n := d.count(); n > 0 {
					a.Steps = make([]step, n)
					for j := range a.Steps {
						a.Steps[j] = step{T: d.int(), S: uint8(d.uint())}
					}
				}
			}
		}
	}
	return b, d.done()
}
