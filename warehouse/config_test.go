package warehouse_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/config"
	"github.com/citypulse/citypulse/warehouse"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*warehouse.Config)
		wantErr string // "" for valid
	}{
		{name: "default is valid", change: func(*warehouse.Config) {}},
		{name: "hostname", change: func(c *warehouse.Config) { c.Addr = "clickhouse.internal:9000" }},
		{name: "no port", change: func(c *warehouse.Config) { c.Addr = "127.0.0.1" }, wantErr: "clickhouse-addr"},
		{name: "bad port", change: func(c *warehouse.Config) { c.Addr = "127.0.0.1:99999" }, wantErr: "clickhouse-addr"},
		{name: "empty host", change: func(c *warehouse.Config) { c.Addr = ":9000" }, wantErr: "clickhouse-addr"},
		{name: "database with dash", change: func(c *warehouse.Config) { c.Database = "city-pulse" }, wantErr: "clickhouse-database"},
		{name: "database with backtick", change: func(c *warehouse.Config) { c.Database = "a`b" }, wantErr: "clickhouse-database"},
		{name: "database starts with digit", change: func(c *warehouse.Config) { c.Database = "1db" }, wantErr: "clickhouse-database"},
		{name: "empty database", change: func(c *warehouse.Config) { c.Database = "" }, wantErr: "clickhouse-database"},
		{name: "underscore database", change: func(c *warehouse.Config) { c.Database = "_test_1" }},
		{name: "empty user", change: func(c *warehouse.Config) { c.User = "" }, wantErr: "clickhouse-user"},
		{name: "zero dial timeout", change: func(c *warehouse.Config) { c.DialTimeout = 0 }, wantErr: "clickhouse-dial-timeout"},
		{name: "zero conns", change: func(c *warehouse.Config) { c.MaxOpenConns = 0 }, wantErr: "clickhouse-max-open-conns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := warehouse.DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestConfigFlags(t *testing.T) {
	t.Setenv("CITYPULSE_CLICKHOUSE_DATABASE", "other")
	cfg := warehouse.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := config.Bind(fs, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-clickhouse-addr=db:9000", "-clickhouse-dial-timeout=2s", "-clickhouse-max-open-conns=4"}); err != nil {
		t.Fatal(err)
	}
	want := warehouse.Config{Addr: "db:9000", Database: "other", User: "default", DialTimeout: 2 * time.Second, MaxOpenConns: 4}
	if cfg != want {
		t.Fatalf("cfg = %+v, want %+v", cfg, want)
	}
	for _, name := range []string{"clickhouse-addr", "clickhouse-database", "clickhouse-user", "clickhouse-password",
		"clickhouse-dial-timeout", "clickhouse-max-open-conns"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag -%s not registered", name)
		}
	}
}
