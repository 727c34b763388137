package warehouse

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"
)

// Config says where the warehouse is and how to connect to it.
type Config struct {
	// Addr is the host:port of ClickHouse's native protocol (not HTTP).
	Addr string `flag:"clickhouse-addr" help:"ClickHouse native-protocol address host:port"`
	// Database holds every CityPulse table; Migrate creates it.
	Database string `flag:"clickhouse-database" help:"ClickHouse database of the CityPulse tables"`
	// User and Password authenticate the connection.
	User     string `flag:"clickhouse-user" help:"ClickHouse user"`
	Password string `flag:"clickhouse-password" help:"ClickHouse password"`
	// DialTimeout bounds connecting to the server.
	DialTimeout time.Duration `flag:"clickhouse-dial-timeout" help:"timeout for connecting to ClickHouse"`
	// MaxOpenConns caps the connections of the pool.
	MaxOpenConns int `flag:"clickhouse-max-open-conns" help:"maximum open ClickHouse connections"`
}

// DefaultConfig serves the local stack that `make run` starts.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:19000",
		Database:     "citypulse",
		User:         "default",
		DialTimeout:  5 * time.Second,
		MaxOpenConns: 16,
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidDatabaseName reports whether name is a plain identifier (^[A-Za-z_][A-Za-z0-9_]*$), the only
// form of database name CityPulse uses.
func ValidDatabaseName(name string) bool { return identRE.MatchString(name) }

// Validate returns an error naming the first field that is unusable, and why.
func (c Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("clickhouse-addr %q: want host:port (e.g. 127.0.0.1:19000)", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("clickhouse-addr %q: port %q is not a number in 1-65535", c.Addr, port)
	}
	if !ValidDatabaseName(c.Database) {
		return fmt.Errorf("clickhouse-database %q: want letters, digits and _ not starting with a digit", c.Database)
	}
	if c.User == "" {
		return fmt.Errorf("clickhouse-user: must not be empty (ClickHouse's built-in user is \"default\")")
	}
	if c.DialTimeout <= 0 {
		return fmt.Errorf("clickhouse-dial-timeout %s: must be positive", c.DialTimeout)
	}
	if c.MaxOpenConns < 1 {
		return fmt.Errorf("clickhouse-max-open-conns %d: must be at least 1", c.MaxOpenConns)
	}
	return nil
}
