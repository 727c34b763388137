package feeds

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the feeds gateway's configuration.
type Config struct {
	// Listen is the gateway's HTTP address.
	Listen string `flag:"feeds-listen" help:"address of the feeds gateway HTTP API"`
	// MaxBodyBytes bounds one request body as sent (a push or a file).
	MaxBodyBytes int64 `flag:"feeds-max-body-bytes" help:"largest accepted request body or file, in bytes"`
	// MaxRowBytes bounds one CSV line or JSON line.
	MaxRowBytes int `flag:"feeds-max-row-bytes" help:"largest CSV or JSON line, in bytes; longer rows are rejected"`
	// ReplayWindow is how far a request's X-CityPulse-Timestamp may be from the server's clock.
	ReplayWindow time.Duration `flag:"feeds-replay-window" help:"accepted clock difference of signed requests, either way"`
	// NonceCacheSize bounds the in-memory nonce cache.
	NonceCacheSize int `flag:"feeds-nonce-cache-size" help:"nonces of recent requests kept in memory"`
	// SharedNonces also records every nonce in the metadata store, so replicas sharing one store
	// refuse a request replayed to another replica. Off, replay protection is per process.
	SharedNonces bool `flag:"feeds-shared-nonces" help:"record nonces in the metadata store too (replay protection across replicas)"`
	// SpoolDir holds request bodies while they are verified and read ("" is the system's temp dir).
	SpoolDir string `flag:"feeds-spool-dir" help:"directory for request bodies while they are verified and read (empty: system temp dir)"`
	// MaxRejections is how many rejected rows a manifest lists (all are counted).
	MaxRejections int `flag:"feeds-max-rejections" help:"rejected rows listed in a batch manifest (all are counted)"`
	// AdminToken turns on the admin API (/v1/admin/: sources, keys, usage log) for callers that
	// send it as a bearer token; empty leaves the admin API off.
	AdminToken string `flag:"feeds-admin-token" help:"bearer token of the feeds admin API (/v1/admin/: sources, keys, usage log); empty turns the admin API off; at least 16 characters"`
	// Secrets says how sources' secrets are kept at rest.
	Secrets SecretsConfig
	// ODSMaxRows is the ods_feed_records writer's buffer, in rows.
	ODSMaxRows int `flag:"feeds-ods-max-rows" help:"rows buffered for ods_feed_records before an insert"`
}

// DefaultConfig serves the local stack.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:8082",
		MaxBodyBytes:   2 << 30,
		MaxRowBytes:    1 << 20,
		ReplayWindow:   5 * time.Minute,
		NonceCacheSize: 100_000,
		SharedNonces:   true,
		MaxRejections:  100,
		ODSMaxRows:     10_000,
	}
}

// Validate names the first setting that cannot work, by its flag.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("feeds-listen %q: want host:port", c.Listen)
	}
	switch {
	case c.MaxBodyBytes < 1:
		return errors.New("feeds-max-body-bytes: must be positive")
	case c.MaxRowBytes < 1:
		return errors.New("feeds-max-row-bytes: must be positive")
	case c.ReplayWindow < time.Second || c.ReplayWindow > time.Hour:
		return fmt.Errorf("feeds-replay-window %s: want 1s to 1h", c.ReplayWindow)
	case c.NonceCacheSize < 1:
		return errors.New("feeds-nonce-cache-size: must be positive")
	case c.MaxRejections < 0:
		return errors.New("feeds-max-rejections: must not be negative")
	case c.Secrets.Validate() != nil:
		return c.Secrets.Validate()
	case c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenLen:
		return fmt.Errorf("feeds-admin-token: %d characters: want at least %d", len(c.AdminToken), MinAdminTokenLen)
	case c.ODSMaxRows < 1:
		return errors.New("feeds-ods-max-rows: must be positive")
	}
	return nil
}
