package stdjobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// TestHourlyBackfill backfills three hours through the scheduler's CLI (`jobs backfill
// events_hourly FROM TO -run`): events_hourly and region_hourly run for each hour, and each
// hour's city row counts that hour's events; a second backfill of region_hourly alone gives the
// same rows. The schedule fires at 5 past the hour for the hour before.
func TestHourlyBackfill(t *testing.T) {
	if !beam.Initialized() {
		beam.Init()
	}
	whCfg, conn := testenv.Warehouse(t)
	busCfg, _ := startBroker(t)
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_key, session_id, region_code, service_id, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	// Hour h (09:00, 10:00, 11:00 in Shanghai) has h+1 users with one page view each; an event
	// at 12:00 belongs to the hour after the range.
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for h := range 4 {
		for i := range h + 1 {
			ts := time.Date(2024, 5, 1, 9+h, i, 0, 0, shanghai)
			u := fmt.Sprintf("u%d", i)
			if err := b.Append(day, ts, ts, fmt.Sprintf("m%d%d", h, i), "page", "p", u, "s-"+u, "510104001001", uint32(1), ts); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Bus: busCfg, EventsGroup: group, Warehouse: whCfg}
	jobs, err := Jobs(DefaultConfig(), deps)
	if err != nil {
		t.Fatal(err)
	}
	off, err := OfflineJobs(DefaultOfflineConfig(), deps)
	if err != nil {
		t.Fatal(err)
	}
	jobs = append(jobs, off...)
	cityRows := func() []string {
		return testenv.QueryStrings(t, conn, `SELECT concat(toString(event_hour, 'Asia/Shanghai'), '|', toString(service_id), '|', toString(users), '|', toString(events), '|', toString(sessions))
FROM dws_region_hourly FINAL WHERE level = 'city' AND events > 0 ORDER BY event_hour, service_id`)
	}
	want := []string{"2024-05-01 09:00:00|0|1|1|1", "2024-05-01 09:00:00|1|1|1|1", "2024-05-01 10:00:00|0|2|2|2", "2024-05-01 10:00:00|1|2|2|2",
		"2024-05-01 11:00:00|0|3|3|3", "2024-05-01 11:00:00|1|3|3|3"}
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		cfg := scheduler.DefaultConfig()
		cfg.Instance, cfg.CatchUp = "test", 0
		s, err := scheduler.New(ctx, ms, cfg, jobs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Job(ctx, JobEventsHourly)
		if err != nil {
			t.Fatal(err)
		}
		if st.Schedule != "5 * * * *" {
			t.Errorf("events_hourly schedule %q, want 5 past every hour", st.Schedule)
		}
		for round, args := range [][]string{
			{"backfill", JobEventsHourly, "2024-05-01T09", "2024-05-01T11:00", "-run", "-json", "-by", "test"},
			{"backfill", JobRegionHourly, "2024-05-01T09:00", "2024-05-01T11", "-run", "-json", "-by", "test"},
		} {
			var out bytes.Buffer
			if err := scheduler.Command(ctx, s, &out, args); err != nil {
				t.Fatal(err)
			}
			var res scheduler.EnqueueResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			var got []string
			for _, r := range res.Runs {
				got = append(got, r.Job+" "+r.Partition)
				if r.State != scheduler.StateSucceeded || (r.Job == JobRegionHourly && r.Rows == 0) {
					t.Errorf("round %d: %s %s: %s, %d rows (%s)", round, r.Job, r.Partition, r.State, r.Rows, r.Error)
				}
			}
			slices.Sort(got)
			wantRuns := []string{"region_hourly 2024-05-01T09:00", "region_hourly 2024-05-01T10:00", "region_hourly 2024-05-01T11:00"}
			if round == 0 {
				wantRuns = append([]string{"events_hourly 2024-05-01T09:00", "events_hourly 2024-05-01T10:00", "events_hourly 2024-05-01T11:00"}, wantRuns...)
			}
			if !slices.Equal(got, wantRuns) {
				t.Errorf("round %d: runs %q, want %q", round, got, wantRuns)
			}
			if got := cityRows(); !slices.Equal(got, want) {
				t.Errorf("round %d: city rows per hour and service %q, want %q", round, got, want)
			}
		}

		// The schedule: a scheduler whose clock passes 12:05 runs both jobs for 11:00.
		clock := &stepClock{now: time.Date(2024, 5, 1, 12, 4, 0, 0, shanghai)}
		cfg.Instance = "test-clock"
		sc, err := scheduler.New(ctx, ms, cfg, jobs, nil, nil, scheduler.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		clock.set(time.Date(2024, 5, 1, 12, 6, 0, 0, shanghai))
		if err := sc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		for _, job := range []string{JobEventsHourly, JobRegionHourly} {
			runs, err := sc.Runs(ctx, scheduler.RunFilter{Job: job, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Trigger != scheduler.TriggerSchedule || runs[0].Partition != "2024-05-01T11:00" || runs[0].State != scheduler.StateSucceeded {
				t.Errorf("%s after the 12:05 firing: %+v, want a succeeded scheduled run for 11:00", job, runs)
			}
		}
		if got := cityRows(); !slices.Equal(got, want) {
			t.Errorf("after the scheduled run: city rows %q, want %q", got, want)
		}
	})
}

// stepClock is a scheduler clock that stands still until set; its timers are real.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
