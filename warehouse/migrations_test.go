package warehouse_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/warehouse"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "empty", in: "", want: nil},
		{name: "only comments", in: "-- a\n  -- b;\n\n", want: nil},
		{name: "one without semicolon", in: "SELECT 1", want: []string{"SELECT 1"}},
		{name: "two", in: "CREATE TABLE a (x UInt8) ENGINE = Memory;\nSELECT 2;\n",
			want: []string{"CREATE TABLE a (x UInt8) ENGINE = Memory", "SELECT 2"}},
		{name: "multi-line with comment lines", in: "-- head\nCREATE TABLE t (\n    -- why\n    a String\n) ENGINE = Memory;  \r\n",
			want: []string{"CREATE TABLE t (\n    a String\n) ENGINE = Memory"}},
		{name: "semicolon inside a line does not split", in: "SELECT ';' AS s, 1;\n", want: []string{"SELECT ';' AS s, 1"}},
		{name: "blank statements skipped", in: ";\n ; \nSELECT 1;;\n", want: []string{"SELECT 1"}},
		{name: "CRLF", in: "SELECT 1;\r\nSELECT 2;\r\n", want: []string{"SELECT 1", "SELECT 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := warehouse.SplitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitStatements(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSplitStatements(f *testing.F) {
	for _, m := range mustMigrations(f) {
		f.Add(m.SQL)
	}
	f.Add("SELECT 1;\n-- c\nSELECT 2")
	f.Add(" ;\n;;\n\t-- x;\nSELECT ';'\n;\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		got := warehouse.SplitStatements(in)
		for _, s := range got {
			if s == "" || s != strings.TrimSpace(s) || strings.HasSuffix(s, ";") {
				t.Fatalf("statement %q: empty, not trimmed, or ends with ';'", s)
			}
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "--") {
					t.Fatalf("statement %q keeps comment line %q", s, line)
				}
			}
		}
		// Splitting the statements joined the way a file writes them gives them back.
		again := warehouse.SplitStatements(strings.Join(got, ";\n"))
		if !reflect.DeepEqual(again, got) && !(len(again) == 0 && len(got) == 0) {
			t.Fatalf("re-split of %q = %q, want %q", in, again, got)
		}
	})
}

func mustMigrations(tb testing.TB) []warehouse.Migration {
	tb.Helper()
	ms, err := warehouse.Migrations()
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

func TestMigrations(t *testing.T) {
	ms := mustMigrations(t)
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_foundation.sql" {
		t.Fatalf("migrations = %+v, want 0001_foundation.sql first", ms)
	}
	for i, m := range ms {
		if i > 0 && m.Version <= ms[i-1].Version {
			t.Errorf("migration %s out of order", m.Name)
		}
		if len(m.Checksum) != 64 {
			t.Errorf("migration %s checksum %q: want hex SHA-256", m.Name, m.Checksum)
		}
		for _, s := range m.Statements("x`y") {
			if strings.Contains(s, "{db}") {
				t.Errorf("migration %s: {db} left in %q", m.Name, s)
			}
		}
	}
	stmts := ms[0].Statements("citypulse")
	if len(stmts) != 4 || !strings.HasPrefix(stmts[0], "CREATE TABLE IF NOT EXISTS `citypulse`.dim_region (") {
		t.Fatalf("0001 statements = %q", stmts)
	}
}
