package simulate

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// runState is what one run (a Generate pass or a Trickle) remembers across days: which devices
// have sent their first identify.
type runState struct {
	identified []uint8 // bit k set: device k of the resident has identified in this run
}

func newRunState(residents int) *runState {
	return &runState{identified: make([]uint8, residents)}
}

// Generate yields the history: every event of every resident over the window, day by day and,
// within a day, resident by resident, each resident's events in time order. It holds one
// resident-day in memory at a time. Message ids, session ids and contents depend only on the
// config and the window's end date, so the same config run on the same day (or with the same
// EndDate) yields the same stream. Use it as an iterator: for e := range sim.Generate { … }.
func (s *Simulator) Generate(yield func(Event) bool) {
	st := newRunState(len(s.residents))
	src := rand.NewPCG(0, 0)
	r := rand.New(src)
	buf := make([]Event, 0, 64)
	for day := s.start; day.Before(s.end); day = day.AddDate(0, 0, 1) {
		for i := range s.residents {
			buf = s.residentDay(buf[:0], src, r, st, i, day)
			for _, e := range buf {
				if !yield(e) {
					return
				}
			}
		}
	}
}

// Total counts the events Generate yields (and History sends) with a generating pass; it takes
// about a second for the default 10,000 residents over 14 days.
func (s *Simulator) Total() int {
	n := 0
	for range s.Generate {
		n++
	}
	return n
}

// residentDay appends resident i's events of the day that starts at midnight day.
// src is r's source, reseeded from (seed, resident, date).
func (s *Simulator) residentDay(out []Event, src *rand.PCG, r *rand.Rand, st *runState, i int, day time.Time) []Event {
	res := &s.residents[i]
	dn := dayNumber(day)
	src.Seed(uint64(s.cfg.Seed), mix(uint64(i), uint64(dn)))

	weekend := isWeekend(day)
	p := res.activity
	if weekend {
		p *= WeekendActivityFactor
	}
	if r.Float64() >= p {
		return out
	}
	n := 1
	for n < MaxSessionsPerDay && r.Float64() < ExtraSessionProb {
		n++
	}
	hours := &s.world.hours[b2i(weekend)]
	starts := make([]time.Duration, n)
	for k := range starts {
		starts[k] = time.Duration(hours.sample(r))*time.Hour + time.Duration(r.IntN(3600))*time.Second
	}
	slices.Sort(starts)

	dayEnd := day.AddDate(0, 0, 1)
	first := len(out)
	var prevEnd time.Time
	for k, off := range starts {
		start := day.Add(off)
		if gap := time.Duration(60+r.IntN(540)) * time.Second; !prevEnd.IsZero() && start.Before(prevEnd.Add(gap)) {
			start = prevEnd.Add(gap) // sessions of one resident do not overlap
		}
		dev := s.pickDevice(r, res)
		sid := nameUUID(s.cfg.Seed, idSession, uint64(i), uint64(dn), uint64(k))
		out = s.session(out, r, st, i, dev, dn, weekend, start, sid)
		prevEnd = out[len(out)-1].Timestamp
	}
	// A session running past midnight is cut there: the history ends at a midnight.
	kept := first
	for _, e := range out[first:] {
		if e.Timestamp.Before(dayEnd) {
			e.MessageID = nameUUID(s.cfg.Seed, idMessage, uint64(i), uint64(dn), uint64(kept-first))
			out[kept] = e
			kept++
		}
	}
	return out[:kept]
}

func (s *Simulator) pickDevice(r *rand.Rand, res *resident) int {
	if len(res.devices) > 1 && r.Float64() >= PrimaryDeviceShare {
		return 1
	}
	return 0
}

// session appends the events of one session of resident i on device dev, starting at start, with
// empty message ids. day is the absolute day number (for the device's login state).
func (s *Simulator) session(out []Event, r *rand.Rand, st *runState, i, devIdx int, day int64, weekend bool, start time.Time, sessionID string) []Event {
	res := &s.residents[i]
	dev := &res.devices[devIdx]
	base := Event{AnonymousID: dev.anonID, Context: dev.ctx}
	base.Context.SessionID = sessionID
	t := start.Truncate(time.Millisecond)
	step := func(minSec, maxSec int) {
		t = t.Add(time.Duration(minSec*1000+r.IntN((maxSec-minSec)*1000+1)) * time.Millisecond)
	}

	loggedIn := res.userID != "" && day >= dev.loginDay
	if loggedIn {
		base.UserID = res.userID
		bit := uint8(1) << devIdx
		reidentify := r.Float64() < ReIdentifyShare
		if st.identified[i]&bit == 0 || reidentify {
			st.identified[i] |= bit
			e := base
			e.Type, e.Timestamp = TypeIdentify, t
			traits := res.traits
			e.Traits = &traits
			out = append(out, e)
			step(1, 5)
		}
	}

	n := 1
	for n < MaxServicesPerSession && r.Float64() < ExtraServiceProb {
		n++
	}
	for k := 0; k < n; k++ {
		svc := s.pickService(r, res, weekend)
		sv := s.world.services[svc]
		cat := sv.Category
		if r.Float64() < SearchShare {
			e := base
			e.Type, e.Event, e.Timestamp = TypeTrack, EventSearch, t
			e.Properties = &Properties{ServiceID: sv.ID, Category: cat, Query: searchQuery(r, sv.Name), Results: 1 + r.IntN(12)}
			out = append(out, e)
			step(3, 20)
		}
		view := base
		view.Timestamp, view.Name = t, sv.Name
		view.Properties = &Properties{ServiceID: sv.ID, Category: cat}
		if dev.platform == platformAndroid || dev.platform == platformIOS {
			view.Type = TypeScreen
		} else {
			view.Type = TypePage
			view.Properties.Path = "/services/" + strconv.FormatUint(uint64(sv.ID), 10)
			view.Properties.Title = sv.Name
			if dev.platform == platformH5 {
				view.Properties.URL = h5Origin + view.Properties.Path
			}
		}
		out = append(out, view)
		step(2, 30)
		if r.Float64() < OpenShare {
			e := base
			e.Type, e.Event, e.Timestamp = TypeTrack, EventServiceOpen, t
			e.Properties = &Properties{ServiceID: sv.ID, Category: cat}
			out = append(out, e)
			opened := t
			step(20, 240)
			if r.Float64() < CompleteShare {
				e := base
				e.Type, e.Event, e.Timestamp = TypeTrack, EventServiceComplete, t
				e.Properties = &Properties{ServiceID: sv.ID, Category: cat, DurationMS: t.Sub(opened).Milliseconds()}
				out = append(out, e)
			}
		}
		step(5, 60)
	}
	return out
}

// h5Origin is the made-up origin of the H5 pages in page URLs.
const h5Origin = "https://h5.citypulse.example"

// pickService draws a service index: from a favourite category with FavouriteShare (weighted by
// the day kind), otherwise from the district's day-kind table.
func (s *Simulator) pickService(r *rand.Rand, res *resident, weekend bool) int {
	w := s.world
	if r.Float64() < FavouriteShare {
		c := res.favs[0]
		w0, w1 := 1.0, 1.0
		if weekend {
			w0, w1 = w.weekend[res.favs[0]], w.weekend[res.favs[1]]
		}
		if r.Float64()*(w0+w1) >= w0 {
			c = res.favs[1]
		}
		return w.inCategory[c].sample(r)
	}
	return w.choice[res.district][b2i(weekend)].sample(r)
}

// searchQuery is what a resident types to find a service: the name's first part (before "-"),
// shortened to two to four characters when long.
func searchQuery(r *rand.Rand, name string) string {
	q, _, _ := strings.Cut(name, "-")
	if n := utf8.RuneCountInString(q); n > 4 {
		keep := 2 + r.IntN(3)
		q = string([]rune(q)[:keep])
	}
	return q
}

func isWeekend(t time.Time) bool {
	wd := t.In(shanghai).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
