package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouse error codes this package branches on (the same on 18.16 and current servers).
const (
	codeTableAlreadyExists    = 57
	codeUnknownTable          = 60
	codeUnknownDatabase       = 81
	codeDatabaseAlreadyExists = 82
)

// startHint tells a person how to get a server when none answers.
const startHint = "start one with `make run`, or deploy/clickhouse/clickhouse.sh start DIR [TCP_PORT]"

// Open connects to the ClickHouse at cfg.Addr over the native protocol with cfg.Database as the
// default database, and pings it before returning. The caller closes the connection.
func Open(ctx context.Context, cfg Config) (driver.Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return open(ctx, cfg, cfg.Database)
}

// open connects with database as the default database (Migrate uses "default" before its database
// exists).
func open(ctx context.Context, cfg Config, database string) (driver.Conn, error) {
	idle := 5
	if cfg.MaxOpenConns < idle {
		idle = cfg.MaxOpenConns
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:     clickhouse.Native,
		Addr:         []string{cfg.Addr},
		Auth:         clickhouse.Auth{Database: database, Username: cfg.User, Password: cfg.Password},
		DialTimeout:  cfg.DialTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: idle,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		if isCode(err, codeUnknownDatabase) {
			return nil, fmt.Errorf("clickhouse at %s: database %s does not exist: run `citypulse migrate` to create it: %w",
				cfg.Addr, database, err)
		}
		var ex *clickhouse.Exception
		if errors.As(err, &ex) || ctx.Err() != nil {
			return nil, fmt.Errorf("clickhouse at %s, database %s: ping: %w", cfg.Addr, database, err)
		}
		return nil, fmt.Errorf("clickhouse at %s does not answer (%s): %w", cfg.Addr, startHint, err)
	}
	return recordFromEnv(conn, cfg.Database) // unchanged unless CITYPULSE_RECORD_STATEMENTS is set
}

// QuoteIdent quotes a database, table or column name for ClickHouse SQL: it wraps the name in
// backticks and escapes backslashes and backticks inside it. It is the one way an identifier that
// is not a constant reaches SQL in CityPulse.
func QuoteIdent(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '`', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
	return b.String()
}

// quoteTable quotes "table" or "database.table" (split at the first dot).
func quoteTable(name string) string {
	if db, table, ok := strings.Cut(name, "."); ok {
		return QuoteIdent(db) + "." + QuoteIdent(table)
	}
	return QuoteIdent(name)
}

// isCode reports whether err carries a ClickHouse exception with the code.
func isCode(err error, code int32) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == code
}
