package minute

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"
)

// Step is the width of a series' buckets.
type Step string

// Steps of a series: minutes as stored, or minutes merged into hours or days.
const (
	StepMinute Step = "minute"
	StepHour   Step = "hour"
	StepDay    Step = "day"
)

// MaxPoints bounds the buckets one series may have (a week of minutes).
const MaxPoints = 7 * 24 * 60

// ErrBadQuery marks a query Series refuses; the message names the field.
var ErrBadQuery = errors.New("bad minute-metrics query")

// Query selects one region's series.
type Query struct {
	// Region is a region code (12 digits) or its significant prefix (4, 6 or 9 digits, as
	// dimdata.Prefix gives): the series is the region's total, all its descendants included.
	Region string
	// ServiceID restricts the series to one service (0: all). App restricts it to one app ("": all).
	ServiceID uint32
	App       string
	// From and To bound the series: [From, To), From rounded down and To rounded up to the step.
	From, To time.Time
	Step     Step
	// Location is the zone whose hours and days the buckets are (nil: UTC).
	Location *time.Location
}

// Point is one bucket of a series. Buckets without data are zero.
type Point struct {
	// Time is the bucket's start.
	Time      time.Time `json:"time"`
	PageViews uint64    `json:"page_views"`
	Events    uint64    `json:"events"`
	// Users and Sessions are distinct users and active sessions (sessions with an event) in the
	// bucket, merged from HyperLogLog states (uniqCombined: exact for small counts, ~1% above).
	Users    uint64 `json:"users"`
	Sessions uint64 `json:"sessions"`
	// NewUsers is the number of users whose first event (the earliest the pipeline has seen)
	// is in the bucket, counted at that event's region, service and app. Exact.
	NewUsers int64 `json:"new_users"`
	// SessionsStarted is the number of sessions whose first event is in the bucket (at that
	// event's region, service and app); MedianSessionSeconds is the median of their lengths
	// (last event − first event, as known now: recent sessions may still grow), the upper
	// median for an even count. Exact.
	SessionsStarted      uint64 `json:"sessions_started"`
	MedianSessionSeconds uint32 `json:"median_session_seconds"`
}

const metricsSQL = `SELECT %s AS t, sumMerge(page_views), sumMerge(events), uniqCombinedMerge(users), sumMerge(new_users), uniqCombinedIfMerge(sessions)
FROM dws_minute_metrics
WHERE region_code = ? AND minute >= ? AND minute < ?%s
GROUP BY t ORDER BY t`

// sessionsSQL merges each session over the days around the range (a session's rows are per day
// of its events, so one that started before the range must be seen whole to be left out).
const sessionsSQL = `SELECT %s AS t, count(), quantileExact(0.5)(toUInt32(toUInt32(e) - toUInt32(s)))
FROM (
    SELECT session_id, minMerge(started) AS s, maxMerge(ended) AS e, argMinMerge(first_region) AS r,
        argMinMerge(first_service) AS sv, argMinMerge(first_app) AS a
    FROM dws_minute_sessions
    WHERE day >= toDate(?) - 1 AND day <= toDate(?) + 1
    GROUP BY session_id
)
WHERE s >= ? AND s < ? AND r LIKE ?%s
GROUP BY t ORDER BY t`

// Series returns the region's series over [q.From, q.To), one point per bucket, oldest first.
func Series(ctx context.Context, conn driver.Conn, q Query) ([]Point, error) {
	code, prefix, ok := regionCode(q.Region)
	if !ok {
		return nil, fmt.Errorf("%w: region %q: want a 12-digit code or a 4, 6 or 9-digit prefix", ErrBadQuery, q.Region)
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	buckets, err := bucketStarts(q.From, q.To, q.Step, loc)
	if err != nil {
		return nil, err
	}
	points := make([]Point, len(buckets)-1)
	at := make(map[int64]*Point, len(points))
	for i := range points {
		points[i].Time = buckets[i]
		at[buckets[i].Unix()] = &points[i]
	}
	from, to := buckets[0].UTC(), buckets[len(buckets)-1].UTC()

	var mExpr, sExpr string
	var mArgs, sArgs []any
	switch q.Step {
	case StepMinute:
		mExpr, sExpr = "minute", "toStartOfMinute(s)"
	case StepHour:
		mExpr, sExpr = "toStartOfHour(minute, ?)", "toStartOfHour(s, ?)"
		mArgs, sArgs = []any{loc.String()}, []any{loc.String()}
	case StepDay:
		mExpr, sExpr = "toStartOfDay(minute, ?)", "toStartOfDay(s, ?)"
		mArgs, sArgs = []any{loc.String()}, []any{loc.String()}
	}
	mArgs = append(mArgs, code, from, to)
	sArgs = append(sArgs, from, to, from, to, prefix+"%")
	var mFilter, sFilter string
	if q.ServiceID != 0 {
		mFilter, sFilter = mFilter+" AND service_id = ?", sFilter+" AND sv = ?"
		mArgs, sArgs = append(mArgs, q.ServiceID), append(sArgs, q.ServiceID)
	}
	if q.App != "" {
		mFilter, sFilter = mFilter+" AND app = ?", sFilter+" AND a = ?"
		mArgs, sArgs = append(mArgs, q.App), append(sArgs, q.App)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return scanEach(gctx, conn, fmt.Sprintf(metricsSQL, mExpr, mFilter), mArgs, func(scan func(...any) error) error {
			var t time.Time
			var pv, ev, users, sessions uint64
			var fresh int64
			if err := scan(&t, &pv, &ev, &users, &fresh, &sessions); err != nil {
				return err
			}
			if p := at[t.Unix()]; p != nil {
				p.PageViews, p.Events, p.Users, p.NewUsers, p.Sessions = pv, ev, users, fresh, sessions
			}
			return nil
		})
	})
	// The two queries fill different fields of the points: no locking needed.
	g.Go(func() error {
		return scanEach(gctx, conn, fmt.Sprintf(sessionsSQL, sExpr, sFilter), sArgs, func(scan func(...any) error) error {
			var t time.Time
			var n uint64
			var median uint32
			if err := scan(&t, &n, &median); err != nil {
				return err
			}
			if p := at[t.Unix()]; p != nil {
				p.SessionsStarted, p.MedianSessionSeconds = n, median
			}
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return points, nil
}

func scanEach(ctx context.Context, conn driver.Conn, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read minute metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("read minute metrics: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read minute metrics: %w", err)
	}
	return nil
}

// bucketStarts returns the starts of the buckets covering [from, to) and, last, the end of the
// last bucket.
func bucketStarts(from, to time.Time, step Step, loc *time.Location) ([]time.Time, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("%w: to %s is not after from %s", ErrBadQuery, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	var start time.Time
	var next func(time.Time) time.Time
	switch step {
	case StepMinute:
		start, next = from.Truncate(time.Minute), func(t time.Time) time.Time { return t.Add(time.Minute) }
	case StepHour:
		f := from.In(loc)
		start = time.Date(f.Year(), f.Month(), f.Day(), f.Hour(), 0, 0, 0, loc)
		if start.After(from) { // a zone whose offset is not whole hours
			start = start.Add(-time.Hour)
		}
		next = func(t time.Time) time.Time { return t.Add(time.Hour) }
	case StepDay:
		f := from.In(loc)
		start = time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		return nil, fmt.Errorf("%w: step %q: want minute, hour or day", ErrBadQuery, step)
	}
	out := []time.Time{start}
	for t := start; t.Before(to); {
		t = next(t)
		out = append(out, t)
		if len(out) > MaxPoints+1 {
			return nil, fmt.Errorf("%w: more than %d %ss from %s to %s", ErrBadQuery, MaxPoints, step, from.Format(time.RFC3339), to.Format(time.RFC3339))
		}
	}
	return out, nil
}
