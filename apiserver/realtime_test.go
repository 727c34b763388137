package apiserver

import (
	"net/url"
	"testing"
	"time"

	"github.com/citypulse/citypulse/pipelines/minute"
)

func TestParseRealtime(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		q     string
		field string
		check func(minute.Query) bool
	}{
		{"", "", func(q minute.Query) bool {
			return q.Region == "510100000000" && q.Step == minute.StepMinute && q.To.Equal(now) && q.From.Equal(now.Add(-60*time.Minute))
		}},
		{"region=510104017001&service=17&app=ios&step=hour", "", func(q minute.Query) bool {
			return q.Region == "510104017001" && q.ServiceID == 17 && q.App == "ios" && q.Step == minute.StepHour && q.From.Equal(now.Add(-60*time.Hour))
		}},
		{"from=2026-11-23T08:00:00%2B08:00&to=2026-11-23T09:00:00%2B08:00", "", func(q minute.Query) bool {
			return q.To.Sub(q.From) == time.Hour
		}},
		{"region=5101", "region", nil},
		{"region=440100000000", "region", nil},
		{"service=0", "service", nil},
		{"service=x", "service", nil},
		{"step=week", "step", nil},
		{"from=yesterday", "from", nil},
		{"from=2026-11-23T10:00:00Z&to=2026-11-23T09:00:00Z", "to", nil},
		{"from=2020-01-01T00:00:00Z", "from", nil},
		{"colour=red", "colour", nil},
	} {
		v, _ := url.ParseQuery(c.q)
		q, perr := parseRealtime(v, "510100000000", now)
		if c.field != "" {
			if perr == nil || perr.Field != c.field {
				t.Errorf("%q: %+v, want an error on %s", c.q, perr, c.field)
			}
			continue
		}
		if perr != nil || !c.check(q) {
			t.Errorf("%q: %+v %+v", c.q, q, perr)
		}
	}
}

func FuzzParseRealtime(f *testing.F) {
	for _, s := range []string{"", "region=510104017001&step=day", "from=2026-11-23T08:00:00Z", "service=99999999999", "step=hour&from=1970-01-01T00:00:00Z"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, perr := parseRealtime(v, "510100000000", now)
		if perr != nil {
			return
		}
		if !q.To.After(q.From) || len(q.Region) != 12 || q.Region[:4] != "5101" {
			t.Fatalf("accepted %+v", q)
		}
	})
}
