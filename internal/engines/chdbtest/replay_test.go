package chdbtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

// TestReplayFailsOnRejectedStatement records statements that ClickHouse 18.16 accepts through
// the recording connection and replays them on chDB with deploy/chdb/replay.py: a recording of
// statements the current engine accepts passes, and one with a statement it rejects (the
// pre-2019 MergeTree syntax, which 18.16 still takes) makes the replay exit 1 and name it.
// The test's database (test_…) appears in the recording as the placeholder {db}.
func TestReplayFailsOnRejectedStatement(t *testing.T) {
	chdbPython(t)
	// Not recorded by the suite's own recording: the broken statement would fail its replay.
	t.Setenv(warehouse.RecordStatementsEnv, "")
	cfg, conn := testenv.Warehouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := warehouse.QuoteIdent(cfg.Database)
	good := []string{
		"CREATE TABLE IF NOT EXISTS " + db + ".modern (d Date, k UInt32) ENGINE = MergeTree ORDER BY k",
		"SELECT count() FROM " + db + ".modern WHERE toString(k) LIKE ?",
	}
	const broken = "CREATE TABLE IF NOT EXISTS {db}.legacy (d Date, k UInt32) ENGINE = MergeTree(d, (k), 8192)"

	for _, tt := range []struct {
		name     string
		stmts    []string
		wantCode int
		wantOut  []string
	}{
		{"accepted", good, 0, []string{"every statement accepted", "2 pass"}},
		{"rejected", append(good, strings.ReplaceAll(broken, "{db}", db)), 1, []string{
			"FAIL", "ENGINE = MergeTree(d, (k), 8192)", "deprecated", "1 FAIL, 2 pass",
			"FAILED: 1 statements rejected by the current engine"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rec, err := warehouse.NewRecorder(dir)
			if err != nil {
				t.Fatal(err)
			}
			rc := warehouse.Record(conn, rec, cfg.Database)
			for _, s := range tt.stmts {
				var err error
				if strings.HasPrefix(s, "SELECT") {
					var n uint64
					err = rc.QueryRow(ctx, s, "5101%").Scan(&n)
				} else {
					err = rc.Exec(ctx, s)
				}
				if err != nil {
					t.Fatalf("18.16 must accept %s: %v", s, err)
				}
			}
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			// No migrations: this test is about the statements (the replay in make test applies
			// the real ones).
			noMigrations := t.TempDir()
			out, stderr, code := runScript(t, "replay.py", "--migrations", noMigrations,
				"--report", filepath.Join(dir, "report.jsonl"), dir)
			if code != tt.wantCode {
				t.Fatalf("replay exit %d, want %d\n%s%s", code, tt.wantCode, out, stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(string(out), w) {
					t.Errorf("replay output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
