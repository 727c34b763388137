package stdjobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

func TestColdMonths(t *testing.T) {
	now := time.Date(2024, 5, 10, 3, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		parts   []string
		after   int
		want    []string
		wantErr string
	}{
		{"one month kept", []string{"202402", "202403", "202404", "202405"}, 1, []string{"2024-02", "2024-03"}, ""},
		{"three months kept", []string{"202312", "202401", "202402", "202403"}, 3, []string{"2023-12", "2024-01"}, ""},
		{"across a year", []string{"202310", "202311", "202312"}, 6, []string{"2023-10"}, ""},
		{"nothing cold", []string{"202404", "202405"}, 1, nil, ""},
		{"no partitions", nil, 1, nil, ""},
		{"not a month", []string{"2024-05"}, 1, nil, "not YYYYMM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := coldMonths(tc.parts, now, tc.after)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("coldMonths = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestArchiveJob: with the archive on (keep one month), a run on 2024-05-10 archives March
// (files written, partition dropped) and leaves April and May in dwd_events; a second run finds
// nothing cold. With the setting at 0 the job is declared disabled.
func TestArchiveJob(t *testing.T) {
	if !beam.Initialized() {
		beam.Init()
	}
	whCfg, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_key, session_id, region_code, service_id, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	for i, day := range []time.Time{time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 9, 0, 0, 0, 0, time.UTC)} {
		ts := day.Add(9 * time.Hour)
		if err := b.Append(day, ts, ts, fmt.Sprintf("m%d", i), "page", "p", "u1", "s1", "510104001001", uint32(1), ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	deps := Deps{EventsGroup: group, Warehouse: whCfg}

	off := DefaultOfflineConfig()
	if !declared(t, off, deps, JobArchive).Disabled {
		t.Fatal("archive job with offline-archive-after-months 0: want declared and disabled")
	}
	off.ArchiveAfterMonths, off.ArchiveDir = 1, filepath.Join(t.TempDir(), "archive")
	s := oneJobScheduler(t, ctx, declared(t, off, deps, JobArchive))
	for round, want := range []string{"archived 2024-03", "no cold month"} {
		run := runAt(t, ctx, s, JobArchive, "2024-05-10T03:30:00+08:00")
		if run.State != scheduler.StateSucceeded || !strings.Contains(run.Message, want) {
			t.Fatalf("round %d: run %s %q (error %q), want succeeded with %q", round, run.State, run.Message, run.Error, want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(off.ArchiveDir, "dwd_events_202403_*.parquet"))
	if len(files) == 0 {
		entries, _ := os.ReadDir(off.ArchiveDir)
		t.Fatalf("no March archive files in %s: %v", off.ArchiveDir, entries)
	}
	var months []string
	rows, err := conn.Query(ctx, "SELECT DISTINCT toString(toYYYYMM(event_date)) AS m FROM dwd_events ORDER BY m")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		months = append(months, m)
	}
	rows.Close()
	if !slices.Equal(months, []string{"202404", "202405"}) {
		t.Fatalf("months left in dwd_events: %q, want 202404 and 202405", months)
	}
}

// TestMinuteRetentionJob: with three months kept, a run on 2024-05-10 drops January from the
// per-minute tables (events, metrics and sessions alike) and keeps February to May; with the
// setting at 0 the job is declared disabled.
func TestMinuteRetentionJob(t *testing.T) {
	whCfg, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_minute_events (minute, event_time, message_id, type, user_key, session_id, regions, service_id, app, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []time.Month{time.January, time.February, time.May} {
		ts := time.Date(2024, m, 3, 9, 30, 0, 0, time.UTC)
		if err := b.Append(ts, ts, fmt.Sprintf("m%d", i), "page", "u1", "s1", []string{"510104001001"}, uint32(1), "app", ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	deps := Deps{EventsGroup: group, Warehouse: whCfg}
	off := DefaultOfflineConfig()
	off.MinuteKeepMonths = 0
	if !declared(t, off, deps, JobMinuteRetention).Disabled {
		t.Fatal("minute retention with minute-keep-months 0: want declared and disabled")
	}
	off.MinuteKeepMonths = 3
	s := oneJobScheduler(t, ctx, declared(t, off, deps, JobMinuteRetention))
	run := runAt(t, ctx, s, JobMinuteRetention, "2024-05-10T03:30:00+08:00")
	if run.State != scheduler.StateSucceeded || !strings.Contains(run.Message, "dwd_minute_events 2024-01") || strings.Contains(run.Message, "2024-02") {
		t.Fatalf("run %s %q (error %q), want January dropped only", run.State, run.Message, run.Error)
	}
	for _, table := range minuteTables {
		parts, err := monthPartitions(ctx, conn, whCfg.Database, table)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(parts, "202401") {
			t.Errorf("%s still has January: %q", table, parts)
		}
	}
	if parts, _ := monthPartitions(ctx, conn, whCfg.Database, "dwd_minute_events"); !slices.Equal(parts, []string{"202402", "202405"}) {
		t.Errorf("dwd_minute_events months %q, want 202402 and 202405", parts)
	}
}

// declared is the job name among OfflineJobs(off, deps).
func declared(t *testing.T, off OfflineConfig, deps Deps, name string) scheduler.Job {
	t.Helper()
	jobs, err := OfflineJobs(off, deps)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(jobs, func(j scheduler.Job) bool { return j.Name == name })
	if i < 0 {
		t.Fatalf("no job %s declared", name)
	}
	return jobs[i]
}

// oneJobScheduler is a scheduler of job alone on a fresh SQLite metadata store.
func oneJobScheduler(t *testing.T, ctx context.Context, job scheduler.Job) *scheduler.Scheduler {
	t.Helper()
	cfg := scheduler.DefaultConfig()
	cfg.Instance, cfg.CatchUp, cfg.Concurrency = "test", 0, 1
	s, err := scheduler.New(ctx, metastoretest.SQLite(t), cfg, []scheduler.Job{job}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runAt triggers job for logical, runs it and returns its record.
func runAt(t *testing.T, ctx context.Context, s *scheduler.Scheduler, job, logical string) scheduler.RunRecord {
	t.Helper()
	res, err := s.Trigger(ctx, job, logical, scheduler.EnqueueOptions{By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunQueued(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := s.GetRun(ctx, res.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
