package warehouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

var identCases = []struct{ name, quoted string }{
	{"events", "`events`"},
	{"", "``"},
	{"with space", "`with space`"},
	{"back`tick", "`back\\`tick`"},
	{`back\slash`, "`back\\\\slash`"},
	{"`; DROP DATABASE x; --", "`\\`; DROP DATABASE x; --`"},
	{"区域", "`区域`"},
	{`\`, "`\\\\`"},
}

func TestQuoteIdent(t *testing.T) {
	for _, tt := range identCases {
		if got := warehouse.QuoteIdent(tt.name); got != tt.quoted {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.name, got, tt.quoted)
		}
	}
}

// TestQuoteIdentOnServer checks that the server reads every quoted name back as the same name.
func TestQuoteIdentOnServer(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	for _, tt := range identCases[2:] {
		q := "SELECT 1 AS " + warehouse.QuoteIdent(tt.name)
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if cols := rows.Columns(); len(cols) != 1 || cols[0] != tt.name {
			t.Errorf("%s: column name %q, want %q", q, cols, tt.name)
		}
		rows.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	base := testenv.ClickHouse(t)
	tests := []struct {
		name     string
		change   func(*warehouse.Config)
		wantErrs []string
	}{
		{name: "nobody listening", change: func(c *warehouse.Config) { c.Addr = "127.0.0.1:1"; c.DialTimeout = 2 * time.Second },
			wantErrs: []string{"127.0.0.1:1", "make run", "deploy/clickhouse/clickhouse.sh"}},
		{name: "no such database", change: func(c *warehouse.Config) { c.Database = "no_such_db_for_open" },
			wantErrs: []string{"no_such_db_for_open", "citypulse migrate"}},
		{name: "invalid config", change: func(c *warehouse.Config) { c.Database = "bad-name" },
			wantErrs: []string{"clickhouse-database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			conn, err := warehouse.Open(context.Background(), cfg)
			if err == nil {
				conn.Close()
				t.Fatal("Open succeeded, want an error")
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
