package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse"
)

// ClickHouseAddrEnv names the variable that gives the test ClickHouse's native-protocol address.
const ClickHouseAddrEnv = "CITYPULSE_TEST_CLICKHOUSE_ADDR"

// ClickHouse returns a warehouse.Config for the test ClickHouse at $CITYPULSE_TEST_CLICKHOUSE_ADDR
// with a database name of the test's own (test_<name>_<random>). The database is not created (see
// Warehouse); if something creates it, it is dropped when the test ends, unless the test failed, so
// its tables can be looked at. Without the variable the test is skipped, or fails when CI=true.
func ClickHouse(t testing.TB) warehouse.Config {
	t.Helper()
	addr := os.Getenv(ClickHouseAddrEnv)
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no ClickHouse: %s is not set, and CI=true forbids skipping (make test starts one and sets it)", ClickHouseAddrEnv)
		}
		t.Skipf("no ClickHouse: run make test or set %s", ClickHouseAddrEnv)
	}
	cfg := warehouse.DefaultConfig()
	cfg.Addr = addr
	cfg.Database = UniqueName(t.Name())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("test failed: keeping ClickHouse database %s at %s", cfg.Database, cfg.Addr)
			return
		}
		dropDatabase(t, cfg)
	})
	return cfg
}

// Warehouse is ClickHouse plus the migrated schema: it applies every migration to the test's
// database and returns a connection to it, closed when the test ends.
func Warehouse(t testing.TB) (warehouse.Config, driver.Conn) {
	t.Helper()
	cfg := ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := warehouse.Migrate(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return cfg, conn
}

// UniqueName makes test_<lowercased test name, letters and digits, ≤24>_<8 hex>: a safe, unique
// database or schema name for a test (ClickHouse databases here, PostgreSQL schemas in
// metastoretest).
func UniqueName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 24 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '/' || r == '_' || r == '-':
			b.WriteByte('_')
		}
	}
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	return "test_" + strings.Trim(b.String(), "_") + "_" + hex.EncodeToString(rnd)
}

func dropDatabase(t testing.TB, cfg warehouse.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := cfg
	admin.Database = "default"
	conn, err := warehouse.Open(ctx, admin)
	if err != nil {
		t.Errorf("drop test database %s: %v", cfg.Database, err)
		return
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+warehouse.QuoteIdent(cfg.Database)); err != nil {
		t.Errorf("drop test database %s: %v", cfg.Database, err)
	}
}

// QueryStrings returns the single String column of sql's rows (a minute at most), failing the
// test on any error.
func QueryStrings(t testing.TB, conn driver.Conn, sql string, args ...any) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
