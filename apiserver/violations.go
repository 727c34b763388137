package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/internal/httpserve"
)

// Limits of GET /api/v1/tracking/violations.
const (
	// DefaultViolationDays is the window length when from is not given.
	DefaultViolationDays = 7
	// MaxViolationGroups is how many (event, rule, field, code) groups one answer lists, most
	// frequent first; Truncated says when there were more.
	MaxViolationGroups = 200
	// SampleReasons is how many example reasons a group carries (the most frequent ones).
	SampleReasons = 3
	// maxSourceLen bounds the source parameter (the pipeline stores at most 256 bytes).
	maxSourceLen = 256
)

// Violations is the answer of GET /api/v1/tracking/violations: the bad events (tracking-plan
// violations and every other rejection) stored in ods_bad_events over a window of days.
type Violations struct {
	Window Window `json:"window"`
	// Source is the app the answer is limited to; "" means every app.
	Source string `json:"source"`
	// Total is the number of bad events in the window; Groups the number of distinct
	// (event, rule, field, code) among them.
	Total  uint64 `json:"total"`
	Groups uint64 `json:"groups"`
	// Truncated is true when Violations lists only the MaxViolationGroups most frequent groups.
	Truncated bool `json:"truncated"`
	// Days has one entry per day of the window, oldest first, zero-filled.
	Days []ViolationDay `json:"days"`
	// Violations are the groups, by count (descending) then event, rule, field and code.
	Violations  []Violation `json:"violations"`
	GeneratedAt time.Time   `json:"generated_at"`
}

// Violation is one (event, rule, field, code) group. Rule is set for tracking-plan violations
// (code "plan"); Event is "" when the bad event had no recognisable name.
type Violation struct {
	Event string `json:"event"`
	Rule  string `json:"rule"`
	// Field is the bad field with array element indexes as "[]" (properties.cart.items[].price):
	// one group for every element; SampleReasons keep the indexes.
	Field string `json:"field"`
	Code  string `json:"code"`
	Count uint64 `json:"count"`
	// Days lists the days of the window on which the group occurred (no zero entries), oldest first.
	Days []ViolationDay `json:"days"`
	// SampleReasons are up to SampleReasons of the group's most frequent reasons.
	SampleReasons []string `json:"sample_reasons"`
}

// ViolationDay is a count of bad events on one day (YYYY-MM-DD, the city's local date).
type ViolationDay struct {
	Date  string `json:"date"`
	Count uint64 `json:"count"`
}

// violationsQuery is a parsed request; From and To are inclusive days at midnight UTC. A zero To
// means "today", decided by the warehouse's clock.
type violationsQuery struct {
	From, To time.Time
	Source   string
}

// The window and the optional source filter; the arguments are from, to (YYYY-MM-DD) and, with
// a source, the source.
const violationScope = ` FROM ods_bad_events FINAL WHERE event_date >= toDate(?) AND event_date <= toDate(?)`

// fieldShapeSQL is the field without its array element indexes ("properties.cart.items[].price"
// for "properties.cart.items[2].price", as event.FieldShape gives it): a nested plan's
// violations group per field, not per element.
const fieldShapeSQL = `replaceRegexpAll(field, '\\[[0-9]+\\]', '[]')`

const (
	violationKey      = `event, rule, ` + fieldShapeSQL + `, code`
	violationOrder    = ` ORDER BY count() DESC, ` + violationKey
	violationTotalSQL = `SELECT count(), uniqExact(` + violationKey + `)`
	violationDaysSQL  = `SELECT event_date, count()`
	violationTodaySQL = `SELECT today()`
)

// violationTopSQL ranks the groups; topK gives each group's most frequent reasons.
var violationTopSQL = `SELECT ` + violationKey + `, count(), topK(` + strconv.Itoa(SampleReasons) + `)(reason)`

// violationSQL assembles a query over the scope, with the source filter when bySource.
func violationSQL(sel string, bySource bool, tail string) string {
	q := sel + violationScope
	if bySource {
		q += ` AND source = ?`
	}
	return q + tail
}

// parseViolationsQuery reads from, to and source. Dates are YYYY-MM-DD; the window must not be
// longer than MaxDays nor end before it starts. Missing to means today; missing from means
// DefaultViolationDays days ending on to.
func parseViolationsQuery(q url.Values) (violationsQuery, *paramError) {
	var vq violationsQuery
	var perr *paramError
	if vq.To, perr = parseDate(q, "to"); perr != nil {
		return vq, perr
	}
	if vq.From, perr = parseDate(q, "from"); perr != nil {
		return vq, perr
	}
	switch {
	case !vq.From.IsZero() && !vq.To.IsZero():
		if vq.From.After(vq.To) {
			return vq, &paramError{http.StatusBadRequest, "from", fmt.Sprintf("%s is after to (%s)", vq.From.Format(dateLayout), vq.To.Format(dateLayout))}
		}
		if n := spanDays(vq.From, vq.To); n > MaxDays {
			return vq, &paramError{http.StatusBadRequest, "from", fmt.Sprintf("the window %s … %s is %d days: want at most %d", vq.From.Format(dateLayout), vq.To.Format(dateLayout), n, MaxDays)}
		}
	case !vq.From.IsZero():
		// to is today, known only to the warehouse: the window is checked once it is known.
	case !vq.To.IsZero():
		vq.From = defaultFrom(vq.To)
	}
	vq.Source = strings.TrimSpace(q.Get("source"))
	if len(vq.Source) > maxSourceLen || !utf8.ValidString(vq.Source) {
		return vq, &paramError{http.StatusBadRequest, "source", fmt.Sprintf("%q: want the name of an app (valid UTF-8, at most %d bytes)", truncate(vq.Source, 40), maxSourceLen)}
	}
	return vq, nil
}

// defaultFrom is the first day of the default window ending on to (never before minDate).
func defaultFrom(to time.Time) time.Time {
	if from := to.AddDate(0, 0, 1-DefaultViolationDays); from.After(minDate) {
		return from
	}
	return minDate
}

// spanDays is the number of days from from to to, both included (midnights UTC).
func spanDays(from, to time.Time) int { return int(to.Sub(from).Hours()/24) + 1 }

// Dates a ClickHouse Date can hold.
var (
	minDate = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
)

// parseDate reads query parameter field as YYYY-MM-DD; empty gives the zero time.
func parseDate(q url.Values, field string) (time.Time, *paramError) {
	s := strings.TrimSpace(q.Get(field))
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, &paramError{http.StatusBadRequest, field, fmt.Sprintf("%q is not a date: want YYYY-MM-DD (e.g. 2025-03-05)", truncate(s, 40))}
	}
	if d.Before(minDate) || d.After(maxDate) {
		return time.Time{}, &paramError{http.StatusBadRequest, field, fmt.Sprintf("%s: want a date from %s to %s", s, minDate.Format(dateLayout), maxDate.Format(dateLayout))}
	}
	return d, nil
}

func (s *Server) handleViolations(w http.ResponseWriter, r *http.Request) {
	vq, perr := parseViolationsQuery(r.URL.Query())
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	if vq.To.IsZero() {
		var today time.Time
		if err := s.conn.QueryRow(ctx, violationTodaySQL).Scan(&today); err != nil {
			s.fail(w, r, fmt.Errorf("read today: %w", err))
			return
		}
		vq.To = dayOf(today)
		switch {
		case vq.From.IsZero():
			vq.From = defaultFrom(vq.To)
		case vq.From.After(vq.To):
			httpserve.WriteError(w, http.StatusBadRequest, "from", fmt.Sprintf("%s is after today (%s): give to as well", vq.From.Format(dateLayout), vq.To.Format(dateLayout)))
			return
		case spanDays(vq.From, vq.To) > MaxDays:
			httpserve.WriteError(w, http.StatusBadRequest, "from", fmt.Sprintf("the window %s … today (%s) is longer than %d days", vq.From.Format(dateLayout), vq.To.Format(dateLayout), MaxDays))
			return
		}
	}
	v, err := s.violations(ctx, vq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, v)
}

// violations computes the answer over a checked window.
func (s *Server) violations(ctx context.Context, vq violationsQuery) (*Violations, error) {
	days := spanDays(vq.From, vq.To)
	v := &Violations{
		Window:      Window{From: vq.From.Format(dateLayout), To: vq.To.Format(dateLayout), Days: days},
		Source:      vq.Source,
		GeneratedAt: time.Now().UTC(),
	}
	bySource := vq.Source != ""
	args := []any{v.Window.From, v.Window.To}
	if bySource {
		args = append(args, vq.Source)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := s.conn.QueryRow(gctx, violationSQL(violationTotalSQL, bySource, ""), args...).Scan(&v.Total, &v.Groups); err != nil {
			return fmt.Errorf("read violation totals: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		v.Days, err = s.violationDays(gctx, bySource, args, vq.From, days)
		return err
	})
	g.Go(func() (err error) {
		v.Violations, v.Truncated, err = s.violationGroups(gctx, bySource, args)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return v, nil
}

// violationDays counts bad events per day, zero-filled over the window.
func (s *Server) violationDays(ctx context.Context, bySource bool, args []any, from time.Time, days int) ([]ViolationDay, error) {
	rows, err := s.conn.Query(ctx, violationSQL(violationDaysSQL, bySource, ` GROUP BY event_date`), args...)
	if err != nil {
		return nil, fmt.Errorf("read violation days: %w", err)
	}
	defer rows.Close()
	counts := map[string]uint64{}
	for rows.Next() {
		var d time.Time
		var n uint64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("read violation days: %w", err)
		}
		counts[dayOf(d).Format(dateLayout)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read violation days: %w", err)
	}
	out := make([]ViolationDay, days)
	for i := range out {
		day := from.AddDate(0, 0, i).Format(dateLayout)
		out[i] = ViolationDay{Date: day, Count: counts[day]}
	}
	return out, nil
}

type groupKey struct{ event, rule, field, code string }

// violationGroups lists the most frequent groups with their sample reasons and their days.
func (s *Server) violationGroups(ctx context.Context, bySource bool, args []any) ([]Violation, bool, error) {
	top := violationSQL(violationTopSQL, bySource, ` GROUP BY `+violationKey+violationOrder+` LIMIT ?`)
	rows, err := s.conn.Query(ctx, top, append(args[:len(args):len(args)], MaxViolationGroups+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("read violation groups: %w", err)
	}
	defer rows.Close()
	out := []Violation{}
	index := map[groupKey]int{}
	truncated := false
	for rows.Next() {
		var vi Violation
		if err := rows.Scan(&vi.Event, &vi.Rule, &vi.Field, &vi.Code, &vi.Count, &vi.SampleReasons); err != nil {
			return nil, false, fmt.Errorf("read violation groups: %w", err)
		}
		if len(out) == MaxViolationGroups {
			truncated = true
			break
		}
		vi.Days = []ViolationDay{}
		index[groupKey{vi.Event, vi.Rule, vi.Field, vi.Code}] = len(out)
		out = append(out, vi)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read violation groups: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, false, nil
	}

	// The same groups, per day: the IN subquery repeats the ranking above, so it picks the same.
	inner := violationSQL(`SELECT `+violationKey, bySource, ` GROUP BY `+violationKey+violationOrder+` LIMIT ?`)
	perDay := violationSQL(`SELECT `+violationKey+`, event_date, count()`, bySource,
		` AND (`+violationKey+`) IN (`+inner+`) GROUP BY `+violationKey+`, event_date ORDER BY event_date`)
	dargs := append(append(append([]any{}, args...), args...), MaxViolationGroups)
	drows, err := s.conn.Query(ctx, perDay, dargs...)
	if err != nil {
		return nil, false, fmt.Errorf("read violation groups per day: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var k groupKey
		var d time.Time
		var n uint64
		if err := drows.Scan(&k.event, &k.rule, &k.field, &k.code, &d, &n); err != nil {
			return nil, false, fmt.Errorf("read violation groups per day: %w", err)
		}
		if i, ok := index[k]; ok {
			out[i].Days = append(out[i].Days, ViolationDay{Date: dayOf(d).Format(dateLayout), Count: n})
		}
	}
	if err := drows.Err(); err != nil {
		return nil, false, fmt.Errorf("read violation groups per day: %w", err)
	}
	return out, truncated, nil
}
