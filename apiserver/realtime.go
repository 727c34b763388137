package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/citypulse/citypulse/internal/httpserve"
	"github.com/citypulse/citypulse/pipelines/minute"
)

// realtimeDefaultPoints is how many buckets a request without from gets, ending now.
const realtimeDefaultPoints = 60

// parseRealtime reads the real-time series request:
//
//	GET /api/v1/realtime?region=<12-digit code>&service=<id>&app=<name>&step=minute|hour|day&from=&to=
//
// region defaults to the city; step to minute; to to now; from to 60 steps before to. from and
// to are RFC 3339 times. Hours and days are China Standard Time's.
func parseRealtime(q url.Values, cityCode string, now time.Time) (minute.Query, *paramError) {
	for k := range q {
		switch k {
		case "region", "service", "app", "step", "from", "to":
		default:
			return minute.Query{}, &paramError{http.StatusBadRequest, k, "unknown parameter; want region, service, app, step, from or to"}
		}
	}
	region, perr := parseRegion(q, "region", cityCode)
	if perr != nil {
		return minute.Query{}, perr
	}
	mq := minute.Query{Region: region, Step: minute.StepMinute, Location: chinaTime, App: strings.TrimSpace(q.Get("app"))}
	if len(mq.App) > 64 {
		return minute.Query{}, &paramError{http.StatusBadRequest, "app", "longer than 64 bytes"}
	}
	if s := strings.TrimSpace(q.Get("service")); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			return minute.Query{}, &paramError{http.StatusBadRequest, "service", fmt.Sprintf("%q: want a service id (a positive whole number)", truncate(s, 20))}
		}
		mq.ServiceID = uint32(n)
	}
	var width time.Duration
	switch s := strings.TrimSpace(q.Get("step")); s {
	case "", "minute":
		width = time.Minute
	case "hour":
		mq.Step, width = minute.StepHour, time.Hour
	case "day":
		mq.Step, width = minute.StepDay, 24*time.Hour
	default:
		return minute.Query{}, &paramError{http.StatusBadRequest, "step", fmt.Sprintf("%q: want minute, hour or day", truncate(s, 20))}
	}
	mq.To = now
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"to", &mq.To}, {"from", &mq.From}} {
		s := strings.TrimSpace(q.Get(f.name))
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return minute.Query{}, &paramError{http.StatusBadRequest, f.name, fmt.Sprintf("%q: want an RFC 3339 time such as 2026-11-23T10:00:00+08:00", truncate(s, 40))}
		}
		*f.dst = t
	}
	if mq.From.IsZero() {
		mq.From = mq.To.Add(-realtimeDefaultPoints * width)
	}
	if !mq.To.After(mq.From) {
		return minute.Query{}, &paramError{http.StatusBadRequest, "to", "must be after from"}
	}
	if mq.To.Sub(mq.From) > minute.MaxPoints*width {
		return minute.Query{}, &paramError{http.StatusBadRequest, "from", fmt.Sprintf("the range holds more than %d %ss; narrow it or take a longer step", minute.MaxPoints, mq.Step)}
	}
	return mq, nil
}

// handleRealtime answers the per-minute (or hourly, daily) metrics of a region from the
// streaming pipeline's tables (pipelines/minute): page views, events, users, new users,
// sessions and the median session length per bucket.
func (s *Server) handleRealtime(w http.ResponseWriter, r *http.Request) {
	q, perr := parseRealtime(r.URL.Query(), s.cfg.CityCode, time.Now())
	if perr != nil {
		httpserve.WriteError(w, perr.Status, perr.Field, perr.Message)
		return
	}
	points, err := minute.Series(r.Context(), s.conn, q)
	if errors.Is(err, minute.ErrBadQuery) {
		httpserve.WriteError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{
		"region": q.Region, "step": q.Step, "from": q.From, "to": q.To, "points": points,
	})
}
