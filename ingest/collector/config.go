package collector

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the collector's HTTP side; the Kafka side is bus.Config.
type Config struct {
	// Listen is the address the standalone collector serves on.
	Listen string `flag:"collector-listen" help:"address the collector listens on"`
	// WriteKeys binds each write key to the app (source) it stands for, as "key=source".
	WriteKeys []string `flag:"write-keys" help:"accepted write keys, comma-separated key=source pairs"`
	// MaxBodyBytes bounds a request body after gzip decompression; a larger one gets 413.
	MaxBodyBytes int64 `flag:"collector-max-body-bytes" help:"largest request body accepted, after decompression (413 beyond)"`
	// MaxInFlight bounds the events (valid and rejected) being produced at once; a request that
	// finds no room gets 429 with Retry-After. A request with more events than MaxInFlight needs
	// the whole room to itself.
	MaxInFlight int `flag:"collector-max-in-flight" help:"events being produced to Kafka at once; beyond, requests get 429"`
	// RetryAfter is what a 429 answer tells the client to wait.
	RetryAfter time.Duration `flag:"collector-retry-after" help:"Retry-After sent with 429 answers"`
	// ProduceTimeout bounds the wait for Kafka to acknowledge a request's records; past it the
	// answer is 503 and the client retries.
	ProduceTimeout time.Duration `flag:"collector-produce-timeout" help:"how long a request waits for Kafka's acknowledgement before 503"`
}

// DefaultConfig serves the local stack with the development write key.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:8080",
		WriteKeys:      []string{"citypulse-dev-key=citypulse-app"},
		MaxBodyBytes:   512 << 10,
		MaxInFlight:    10000,
		RetryAfter:     time.Second,
		ProduceTimeout: 10 * time.Second,
	}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("collector-listen: required")
	}
	if _, err := parseWriteKeys(c.WriteKeys); err != nil {
		return err
	}
	if c.MaxBodyBytes < 1 {
		return fmt.Errorf("collector-max-body-bytes: %d: want at least 1", c.MaxBodyBytes)
	}
	if c.MaxInFlight < 1 {
		return fmt.Errorf("collector-max-in-flight: %d: want at least 1", c.MaxInFlight)
	}
	if c.RetryAfter < 0 {
		return fmt.Errorf("collector-retry-after: %s: must not be negative", c.RetryAfter)
	}
	if c.ProduceTimeout <= 0 {
		return fmt.Errorf("collector-produce-timeout: %s: want more than 0", c.ProduceTimeout)
	}
	return nil
}

// parseWriteKeys maps each write key to its source.
func parseWriteKeys(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, errors.New("write-keys: at least one key=source pair is required")
	}
	keys := make(map[string]string, len(pairs))
	for _, p := range pairs {
		key, source, ok := strings.Cut(p, "=")
		key, source = strings.TrimSpace(key), strings.TrimSpace(source)
		if !ok || key == "" || source == "" {
			return nil, fmt.Errorf("write-keys: %q: want key=source", p)
		}
		if _, dup := keys[key]; dup {
			return nil, fmt.Errorf("write-keys: key %q is given twice", key)
		}
		keys[key] = source
	}
	return keys, nil
}
