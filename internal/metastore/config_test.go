package metastore

import (
	"strings"
	"testing"
)

func TestConfigDriver(t *testing.T) {
	for _, tc := range []struct {
		dsn     string
		dialect Dialect
		driver  string
		err     string
	}{
		{dsn: "sqlite:var/citypulse.db", dialect: SQLite, driver: "var/citypulse.db"},
		{dsn: "sqlite:/tmp/x.db", dialect: SQLite, driver: "/tmp/x.db"},
		{dsn: "postgres://u@127.0.0.1:5432/db?sslmode=disable", dialect: Postgres, driver: "postgres://u@127.0.0.1:5432/db?sslmode=disable"},
		{dsn: "postgresql://u@h/db", dialect: Postgres, driver: "postgresql://u@h/db"},
		{dsn: "", err: "meta-dsn: required"},
		{dsn: "sqlite:", err: "want sqlite:PATH with a file path"},
		{dsn: "sqlite::memory:", err: "plain file path"},
		{dsn: "sqlite:x.db?mode=ro", err: "plain file path"},
		{dsn: "mysql://u:secret@h/db", err: `"mysql://u:xxx@h/db": want sqlite:PATH or postgres://`},
		{dsn: "var/citypulse.db", err: "want sqlite:PATH"},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			d, drv, err := Config{DSN: tc.dsn}.driver()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || d != tc.dialect || drv != tc.driver {
				t.Fatalf("got %q %q %v, want %q %q", d, drv, err, tc.dialect, tc.driver)
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}
