package warehouse_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

var foundationTables = []string{"dim_region", "dim_service", "dwd_activity", "dwd_events", "dwd_facility", "dwd_house", "dwd_minute_events", "dwd_opinion", "dwd_org", "dwd_person", "dwd_person_house", "dwd_space_booking", "dwd_survey", "dws_campaign_daily", "dws_minute_metrics", "dws_minute_sessions", "dws_region_daily", "dws_region_hourly", "dws_region_service_daily", "dws_retention_daily", "dws_service_daily", "dws_user_daily", "dws_user_first_day", "dws_user_first_seen", "mv_minute_events", "mv_minute_new_users", "mv_minute_sessions", "ods_bad_events", "ods_change_decisions", "ods_feed_batches", "ods_feed_quarantine", "ods_feed_records", "ods_staged_rows", "schema_migrations", "v_dwd_activity", "v_dwd_facility", "v_dwd_house", "v_dwd_opinion", "v_dwd_org", "v_dwd_person", "v_dwd_person_house", "v_dwd_space_booking", "v_dwd_survey"}

func allVersions(t *testing.T) []int {
	var vs []int
	for _, m := range mustMigrations(t) {
		vs = append(vs, m.Version)
	}
	return vs
}

// openDefault connects to the test server's default database, to look at a test database from
// outside.
func openDefault(t *testing.T, cfg warehouse.Config) driver.Conn {
	t.Helper()
	cfg.Database = "default"
	conn, err := warehouse.Open(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// checkSchema checks that every version is recorded exactly once, every table exists and the lock
// is gone.
func checkSchema(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	for _, v := range allVersions(t) {
		if n := queryUint(t, conn, "SELECT count() FROM "+warehouse.QuoteIdent(db)+".schema_migrations WHERE version = ?", v); n != 1 {
			t.Errorf("version %d recorded %d times, want once", v, n)
		}
	}
	rows, err := conn.Query(context.Background(), "SELECT name FROM system.tables WHERE database = ? ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if !slices.Equal(tables, foundationTables) {
		t.Errorf("tables = %q, want %q (and no lock left)", tables, foundationTables)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	cfg := testenv.ClickHouse(t)
	ctx := testCtx(t)
	first, err := warehouse.Migrate(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, allVersions(t)) {
		t.Fatalf("first Migrate applied %v, want %v", first, allVersions(t))
	}
	second, err := warehouse.Migrate(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", second)
	}
	checkSchema(t, openDefault(t, cfg), cfg.Database)
}

func TestMigrateConcurrent(t *testing.T) {
	cfg := testenv.ClickHouse(t)
	ctx := testCtx(t)
	const n = 4
	results := make([][]int, n)
	errs := make([]error, n)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = warehouse.Migrate(ctx, cfg, log) })
	}
	wg.Wait()
	t.Logf("runs that waited for the lock: %d", strings.Count(logs.String(), "waiting for the migration lock"))
	var all []int
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Migrate %d: %v", i, errs[i])
		}
		all = append(all, results[i]...)
	}
	slices.Sort(all)
	if !slices.Equal(all, allVersions(t)) {
		t.Fatalf("versions applied across %d concurrent runs = %v, want each of %v once", n, all, allVersions(t))
	}
	checkSchema(t, openDefault(t, cfg), cfg.Database)
}

func TestMigrateRefusesChangedChecksum(t *testing.T) {
	cfg := testenv.ClickHouse(t)
	conn := openDefault(t, cfg)
	db := warehouse.QuoteIdent(cfg.Database)
	mustExec(t, conn, "CREATE DATABASE "+db)
	mustExec(t, conn, "CREATE TABLE "+db+".schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY version")
	mustExec(t, conn, "INSERT INTO "+db+".schema_migrations (version, name, checksum, applied_at) SELECT 1, '0001_foundation.sql', 'edited', now()")

	_, err := warehouse.Migrate(testCtx(t), cfg, nil)
	if !errors.Is(err, warehouse.ErrChecksumMismatch) {
		t.Fatalf("Migrate = %v, want ErrChecksumMismatch", err)
	}
	if !strings.Contains(err.Error(), "0001_foundation.sql") {
		t.Errorf("error %q does not name the migration", err)
	}
	if n := queryUint(t, conn, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('dim_region', 'schema_migrations_lock')", cfg.Database); n != 0 {
		t.Errorf("%d of dim_region / the lock exist after the refusal, want none", n)
	}
}

func TestMigrateBreaksStaleLock(t *testing.T) {
	cfg := testenv.ClickHouse(t)
	conn := openDefault(t, cfg)
	db := warehouse.QuoteIdent(cfg.Database)
	mustExec(t, conn, "CREATE DATABASE "+db)
	mustExec(t, conn, "CREATE TABLE "+db+".schema_migrations_lock (owner String, taken_at DateTime) ENGINE = Log")
	mustExec(t, conn, "INSERT INTO "+db+".schema_migrations_lock (owner, taken_at) SELECT 'crashed-host/42/dead', now() - 660")

	var logs bytes.Buffer
	applied, err := warehouse.Migrate(testCtx(t), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, allVersions(t)) {
		t.Fatalf("applied %v, want %v", applied, allVersions(t))
	}
	if !strings.Contains(logs.String(), "broke a stale migration lock") || !strings.Contains(logs.String(), "crashed-host/42/dead") {
		t.Errorf("no warning naming the stale owner in the log:\n%s", logs.String())
	}
	checkSchema(t, conn, cfg.Database)
}

func TestMigrateWaitsForLiveLock(t *testing.T) {
	cfg := testenv.ClickHouse(t)
	conn := openDefault(t, cfg)
	db := warehouse.QuoteIdent(cfg.Database)
	mustExec(t, conn, "CREATE DATABASE "+db)
	mustExec(t, conn, "CREATE TABLE "+db+".schema_migrations_lock (owner String, taken_at DateTime) ENGINE = Log")
	mustExec(t, conn, "INSERT INTO "+db+".schema_migrations_lock (owner, taken_at) SELECT 'busy-host/7/beef', now() - 60")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := warehouse.Migrate(ctx, cfg, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "busy-host/7/beef") {
		t.Fatalf("Migrate under a live lock = %v, want a deadline error naming the owner", err)
	}
	if n := queryUint(t, conn, "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_migrations'", cfg.Database); n != 0 {
		t.Errorf("Migrate went on without the lock")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
