package stdjobs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// TestOfflineBackfill declares the standard and offline jobs together and backfills through the
// scheduler: events over three days (which runs every job of the DAG for them), then user_daily
// again (user_daily, region_daily and retention rerun for each day, with the same result).
func TestOfflineBackfill(t *testing.T) {
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
	for d := range 3 {
		day := time.Date(2024, 5, 1+d, 0, 0, 0, 0, time.UTC)
		for i, u := range []string{"u1", "u2", "u3"}[:d+1] {
			ts := day.Add(time.Duration(9+i) * time.Hour)
			if err := b.Append(day, ts, ts, fmt.Sprintf("m%d%d", d, i), "page", "p", u, "s-"+u, "510104001001", uint32(1), ts); err != nil {
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
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		cfg := scheduler.DefaultConfig()
		cfg.Instance, cfg.CatchUp, cfg.Concurrency = "test", 0, 1
		s, err := scheduler.New(ctx, ms, cfg, jobs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Backfill(ctx, JobEvents, "2024-05-01", "2024-05-03", scheduler.EnqueueOptions{By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range all.Runs {
			names = append(names, r.Job)
		}
		for _, want := range []string{JobDaily, JobUserDaily, JobRegionDaily, JobRetention, JobServiceDaily, JobCampaignDaily} {
			if n := countOf(names, want); n != 3 {
				t.Errorf("backfill of events enqueued %s %d times, want 3: %q", want, n, names)
			}
		}
		if err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		again, err := s.Backfill(ctx, JobUserDaily, "2024-05-01", "2024-05-03", scheduler.EnqueueOptions{By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Runs) != 9 || again.Created != 9 {
			t.Fatalf("backfill of user_daily enqueued %d runs (%d new), want 9 new (user_daily, region_daily, retention × 3 days)", len(again.Runs), again.Created)
		}
		if err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		for _, r := range append(all.Runs, again.Runs...) {
			got, err := s.GetRun(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != scheduler.StateSucceeded {
				t.Errorf("%s %s: %s (%s)", got.Job, got.Partition, got.State, got.Error)
			}
			if got.Rows == 0 && got.Job != JobCampaignDaily && got.Job != JobEvents {
				t.Errorf("%s %s: no rows", got.Job, got.Partition)
			}
		}
		var users []string
		rows, err := conn.Query(ctx, "SELECT concat(toString(event_date), ':', toString(users), '/', toString(new_users)) FROM dws_region_daily FINAL WHERE level = 'city' ORDER BY event_date")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			users = append(users, s)
		}
		if want := "2024-05-01:1/1 2024-05-02:2/1 2024-05-03:3/1"; strings.Join(users, " ") != want {
			t.Errorf("city users/new users per day: %q, want %q", users, want)
		}
	})
}

func countOf(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

func TestOfflineConfig(t *testing.T) {
	bad := DefaultOfflineConfig()
	bad.Runner, bad.RetentionDays, bad.FunnelWindow, bad.Timeout, bad.UnitRows = "", 0, 0, 0, -1
	bad.ArchiveAfterMonths, bad.ArchiveDir, bad.MinuteKeepMonths, bad.HourlyWait = 2, "", -1, 0
	_, err := OfflineJobs(bad, Deps{EventsGroup: group})
	for _, flag := range []string{"offline-runner", "offline-retention-days", "offline-funnel-window", "offline-timeout", "offline-unit-rows",
		"offline-archive-dir", "minute-keep-months", "offline-hourly-wait"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("bad config: %v, want %s named", err, flag)
		}
	}
	funcs := OfflineFuncs(DefaultOfflineConfig(), Deps{})
	_, okArchive := funcs[FuncArchive]
	_, okMinutes := funcs[FuncMinuteRetention]
	_, okHourly := funcs[FuncOffline+JobRegionHourly]
	if _, ok := funcs[FuncOffline+JobUserDaily]; !ok || !okArchive || !okMinutes || !okHourly || len(funcs) != 8 {
		t.Errorf("offline funcs: %d, want 8 including %s, %s, %s and %s", len(funcs), FuncOffline+JobUserDaily, FuncOffline+JobRegionHourly,
			FuncArchive, FuncMinuteRetention)
	}
}
