package minute

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// rollupPrefix starts the message_id of a rollup row; clients' message ids never do (the
// collector's ids are UUIDs or client text, and a client id like it would only collide with a
// rollup row of the same minute and the same random batch number).
const rollupPrefix = "~rollup/"

// rollupKey is one rollup row: a minute, the region code an event has (its region path's last
// code, which determines the path), a service and an app.
type rollupKey struct {
	minute  int64
	region  string
	service uint32
	app     string
}

type rollupAgg struct {
	regions           []string
	pageViews, events uint64
	users, sessions   map[string]struct{}
}

// rollups sums rows (the events about to be inserted, distinct) into one rollup row per
// (minute, region path, service, app): what mv_minute_events turns into metric states at each
// level of the path (migration 0012); the states of a district's communities merge into the
// district's numbers as the states of its events did. Their message ids are "~rollup/<batch>/<n>", batch random per call,
// so a retry of the same insert finds them like the events.
func rollups(rows []detailRow) []detailRow {
	groups := make(map[rollupKey]*rollupAgg)
	var order []rollupKey
	for i := range rows {
		r := &rows[i]
		pv := uint64(0)
		if r.Type == "page" || r.Type == "screen" {
			pv = 1
		}
		k := rollupKey{r.Minute.Unix(), r.Regions[len(r.Regions)-1], r.ServiceID, r.App}
		g := groups[k]
		if g == nil {
			g = &rollupAgg{regions: r.Regions, users: map[string]struct{}{}, sessions: map[string]struct{}{}}
			groups[k] = g
			order = append(order, k)
		}
		g.pageViews += pv
		g.events++
		g.users[r.UserKey] = struct{}{}
		if r.SessionID != "" {
			g.sessions[r.SessionID] = struct{}{}
		}
	}
	batch := strconv.FormatUint(rand.Uint64(), 36) + "/"
	out := make([]detailRow, 0, len(order))
	for n, k := range order {
		g := groups[k]
		m := time.Unix(k.minute, 0).UTC()
		out = append(out, detailRow{Minute: m, EventTime: m, MessageID: rollupPrefix + batch + strconv.Itoa(n),
			Regions: g.regions, ServiceID: k.service, App: k.app, Rollup: true,
			PageViews: g.pageViews, Events: g.events, Users: setSlice(g.users), Sessions: setSlice(g.sessions)})
	}
	return out
}

// setSlice returns the members of s, sorted (so a rollup row does not depend on map order).
func setSlice(s map[string]struct{}) []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
