package apiserver

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// TopServices is how many services an overview lists.
const TopServices = 10

// Overview is the answer of GET /api/v1/overview: one region's activity over a window of days.
type Overview struct {
	Region Region   `json:"region"`
	Path   []Region `json:"path"` // city first, ending with Region: the breadcrumb
	Window Window   `json:"window"`
	// ActiveUsers is the number of distinct users over the whole window (not a sum of days).
	ActiveUsers uint64 `json:"active_users"`
	PageViews   uint64 `json:"page_views"`
	Events      uint64 `json:"events"`
	// Today is the window's last day: the latest day with data in the city, or today.
	Today DayStat `json:"today"`
	// PreviousSoFar is the day before Today counted up to the current time of day, when Today
	// is the current date (China time): today's figures so far compare with it, not with the
	// whole previous day. Null when Today is a past day: compare with Trend's previous day.
	PreviousSoFar *DayStat      `json:"previous_so_far"`
	Trend         []DayStat     `json:"trend"` // one per day of the window, oldest first, zero-filled
	TopServices   []ServiceStat `json:"top_services"`
	// Children holds every child region (none for a community), by page views then active users
	// (descending) then code; a child without data has zeros.
	Children []ChildStat `json:"children"`
	// UpdatedAt is when the city's daily aggregate was last recomputed; null when it is empty.
	UpdatedAt   *time.Time `json:"updated_at"`
	GeneratedAt time.Time  `json:"generated_at"`
}

// Window is the inclusive range of days an overview covers (dates as YYYY-MM-DD).
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

// DayStat is one day of a region.
type DayStat struct {
	Date        string `json:"date"`
	ActiveUsers uint64 `json:"active_users"`
	PageViews   uint64 `json:"page_views"`
}

// ServiceStat is one service's use in a region over the window.
type ServiceStat struct {
	ServiceID uint32 `json:"service_id"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	PageViews uint64 `json:"page_views"`
	Users     uint64 `json:"users"`
}

// ChildStat is one child region's activity over the window.
type ChildStat struct {
	Region
	ActiveUsers uint64 `json:"active_users"`
	PageViews   uint64 `json:"page_views"`
}

const dateLayout = "2006-01-02"

// The window's last day and the aggregate's freshness, over the whole city. No FINAL: replaced
// rows share their event_date, so max is the same with or without it.
const latestSQL = `SELECT max(event_date), max(computed_at), today() FROM dws_region_service_daily WHERE region_code LIKE ?`

// Every query below filters with: region_code LIKE ? AND event_date BETWEEN ? AND ?.
const scope = ` FROM dws_region_service_daily FINAL WHERE region_code LIKE ? AND event_date >= toDate(?) AND event_date <= toDate(?)`

const (
	totalsSQL   = `SELECT uniqCombinedMerge(users), sum(page_views), sum(events)` + scope
	trendSQL    = `SELECT event_date, uniqCombinedMerge(users), sum(page_views)` + scope + ` GROUP BY event_date ORDER BY event_date`
	topSQL      = `SELECT service_id, sum(page_views) AS pv, uniqCombinedMerge(users) AS u` + scope + ` GROUP BY service_id ORDER BY pv DESC, u DESC, service_id LIMIT ?`
	childrenSQL = `SELECT substring(region_code, 1, ?) AS child, uniqCombinedMerge(users), sum(page_views)` + scope + ` GROUP BY child`
	servicesSQL = `SELECT service_id, name, category FROM dim_service FINAL WHERE service_id IN ?`
	// soFarSQL counts one day of the detail up to a time (unix seconds), as the daily
	// aggregate counts whole days (see warehouse.RefreshDaily).
	soFarSQL = `SELECT uniqCombined(user_key), countIf(type IN ('page', 'screen')) FROM dwd_events FINAL
WHERE region_code LIKE ? AND event_date = toDate(?) AND event_time <= toDateTime(?)`
)

// dayOf drops the clock and zone of a date read from ClickHouse.
func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// window returns the days-long window ending on the city's latest day with data (or the server's
// today when there is none) and when the aggregate was last computed (nil if never).
func (s *Server) window(ctx context.Context, days int) (from, to time.Time, updated *time.Time, err error) {
	var latest, computed, today time.Time
	if err := s.conn.QueryRow(ctx, latestSQL, s.cityPrefix+"%").Scan(&latest, &computed, &today); err != nil {
		return from, to, nil, fmt.Errorf("read latest day: %w", err)
	}
	to = dayOf(today)
	if latest.Year() > 1970 {
		to = dayOf(latest)
		c := computed.UTC()
		updated = &c
	}
	return to.AddDate(0, 0, 1-days), to, updated, nil
}

// overview computes the answer for a region that exists.
func (s *Server) overview(ctx context.Context, fam regionFamily, days int) (*Overview, error) {
	from, to, updated, err := s.window(ctx, days)
	if err != nil {
		return nil, err
	}
	ov := &Overview{
		Region:      fam.Self,
		Path:        fam.Path,
		Window:      Window{From: from.Format(dateLayout), To: to.Format(dateLayout), Days: days},
		UpdatedAt:   updated,
		GeneratedAt: time.Now().UTC(),
	}
	args := []any{dimdata.Prefix(fam.Self.Code, fam.Self.Level) + "%", ov.Window.From, ov.Window.To}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := s.conn.QueryRow(gctx, totalsSQL, args...).Scan(&ov.ActiveUsers, &ov.PageViews, &ov.Events)
		if err != nil {
			return fmt.Errorf("read totals: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		ov.Trend, err = s.trend(gctx, args, from, to)
		return err
	})
	g.Go(func() (err error) {
		ov.TopServices, err = s.topServices(gctx, args)
		return err
	})
	g.Go(func() (err error) {
		ov.Children, err = s.children(gctx, args, fam.Children)
		return err
	})
	if now := time.Now(); to.Format(dateLayout) == now.In(chinaTime).Format(dateLayout) {
		g.Go(func() error {
			prev := DayStat{Date: to.AddDate(0, 0, -1).Format(dateLayout)}
			err := s.conn.QueryRow(gctx, soFarSQL, args[0], prev.Date, now.Add(-24*time.Hour).Unix()).Scan(&prev.ActiveUsers, &prev.PageViews)
			if err != nil {
				return fmt.Errorf("read the previous day so far: %w", err)
			}
			ov.PreviousSoFar = &prev
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ov.Today = ov.Trend[len(ov.Trend)-1]
	return ov, nil
}

// trend reads the days that have data and fills the others with zeros.
func (s *Server) trend(ctx context.Context, args []any, from, to time.Time) ([]DayStat, error) {
	rows, err := s.conn.Query(ctx, trendSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("read trend: %w", err)
	}
	defer rows.Close()
	byDay := map[string]DayStat{}
	for rows.Next() {
		var d time.Time
		var st DayStat
		if err := rows.Scan(&d, &st.ActiveUsers, &st.PageViews); err != nil {
			return nil, fmt.Errorf("scan trend: %w", err)
		}
		st.Date = dayOf(d).Format(dateLayout)
		byDay[st.Date] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trend: %w", err)
	}
	return fillDays(byDay, from, to), nil
}

// fillDays returns one DayStat per day from from to to inclusive, taken from byDay or zero.
func fillDays(byDay map[string]DayStat, from, to time.Time) []DayStat {
	var out []DayStat
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		key := d.Format(dateLayout)
		st, ok := byDay[key]
		if !ok {
			st = DayStat{Date: key}
		}
		out = append(out, st)
	}
	return out
}

// topServices reads the busiest services and names them from dim_service.
func (s *Server) topServices(ctx context.Context, args []any) ([]ServiceStat, error) {
	rows, err := s.conn.Query(ctx, topSQL, append(args, TopServices)...)
	if err != nil {
		return nil, fmt.Errorf("read top services: %w", err)
	}
	defer rows.Close()
	out := []ServiceStat{}
	for rows.Next() {
		var st ServiceStat
		if err := rows.Scan(&st.ServiceID, &st.PageViews, &st.Users); err != nil {
			return nil, fmt.Errorf("scan top services: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read top services: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, len(out))
	for i, st := range out {
		ids[i] = st.ServiceID
	}
	names, err := s.conn.Query(ctx, servicesSQL, clickhouse.GroupSet{Value: ids})
	if err != nil {
		return nil, fmt.Errorf("read dim_service: %w", err)
	}
	defer names.Close()
	type nameCat struct{ name, category string }
	byID := map[uint32]nameCat{}
	for names.Next() {
		var id uint32
		var nc nameCat
		if err := names.Scan(&id, &nc.name, &nc.category); err != nil {
			return nil, fmt.Errorf("scan dim_service: %w", err)
		}
		byID[id] = nc
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("read dim_service: %w", err)
	}
	for i := range out {
		nc, ok := byID[out[i].ServiceID]
		if !ok {
			nc = nameCat{name: fmt.Sprintf("#%d", out[i].ServiceID), category: dimdata.OtherCategory}
		}
		out[i].Name, out[i].Category = nc.name, nc.category
	}
	return out, nil
}

// children reads activity per child prefix and lays it over the full list of children, so a
// child without data has zeros. Data under a code missing from dim_region counts in the totals
// but in no child.
func (s *Server) children(ctx context.Context, args []any, kids []Region) ([]ChildStat, error) {
	out := make([]ChildStat, len(kids))
	if len(kids) == 0 {
		return out, nil
	}
	n := dimdata.PrefixLen(kids[0].Level)
	idx := make(map[string]int, len(kids))
	for i, k := range kids {
		out[i].Region = k
		idx[dimdata.Prefix(k.Code, k.Level)] = i
	}
	rows, err := s.conn.Query(ctx, childrenSQL, append([]any{n}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read children: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var prefix string
		var users, views uint64
		if err := rows.Scan(&prefix, &users, &views); err != nil {
			return nil, fmt.Errorf("scan children: %w", err)
		}
		if i, ok := idx[prefix]; ok {
			out[i].ActiveUsers, out[i].PageViews = users, views
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read children: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PageViews != out[j].PageViews {
			return out[i].PageViews > out[j].PageViews
		}
		if out[i].ActiveUsers != out[j].ActiveUsers {
			return out[i].ActiveUsers > out[j].ActiveUsers
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}
