package metastore

import (
	"fmt"
	"strings"
)

// Config selects the metadata store.
type Config struct {
	// DSN is "sqlite:PATH" (a SQLite file, created with its directory when missing) or a
	// PostgreSQL URL "postgres://user:password@host:port/database?sslmode=disable" (any
	// parameter pgx accepts, e.g. search_path).
	DSN string `flag:"meta-dsn" help:"metadata store: sqlite:PATH or postgres://user@host:port/db"`
}

// DefaultConfig keeps the metadata in var/citypulse.db, beside the rest of the local stack's data.
func DefaultConfig() Config {
	return Config{DSN: "sqlite:var/citypulse.db"}
}

// Dialect names the SQL database behind a Store.
type Dialect string

// The dialects a Store can speak.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Validate reports a DSN that names no supported database, naming the flag.
func (c Config) Validate() error {
	_, _, err := c.driver()
	return err
}

// sqliteParams are the connection settings of every SQLite connection: WAL so readers do not
// wait for the writer, a busy timeout so writers queue instead of failing, foreign keys
// enforced, NORMAL sync (safe in WAL mode; a power cut may lose the last transactions, never
// corrupt), and BEGIN IMMEDIATE so a transaction takes the write lock up front instead of
// failing with SQLITE_BUSY when it upgrades from reading to writing.
const sqliteParams = "_busy_timeout=5000&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"

// driver returns the dialect and the database/sql driver name and DSN.
func (c Config) driver() (Dialect, string, error) {
	dsn := strings.TrimSpace(c.DSN)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return "", "", fmt.Errorf("meta-dsn: %q: want sqlite:PATH with a file path", c.DSN)
		}
		if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
			return "", "", fmt.Errorf("meta-dsn: %q: the SQLite path must be a plain file path (no ?, #, :memory: or file: URI)", c.DSN)
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	case dsn == "":
		return "", "", fmt.Errorf("meta-dsn: required (e.g. %s)", DefaultConfig().DSN)
	default:
		return "", "", fmt.Errorf("meta-dsn: %q: want sqlite:PATH or postgres://user@host:port/database", redact(c.DSN))
	}
}

// redact hides a password in a URL-like DSN, for messages.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return dsn
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxx@" + host
	}
	return dsn
}
