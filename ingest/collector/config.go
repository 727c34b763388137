package collector

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is the collector's HTTP side; the Kafka side is bus.Config.
type Config struct {
	// Listen is the address the standalone collector serves on.
	Listen string `flag:"collector-listen" help:"address the collector listens on"`
	// WriteKeys binds each write key to the app (source) it stands for and, optionally, a rate
	// limit for that key: "key=source[:rate[:burst]]". rate is events per second (a token
	// bucket per key, counting every event of a request, valid or not); burst is the bucket
	// size, default rate rounded up. Without rate the key is unlimited. "k1=h5-app:2000:4000".
	WriteKeys []string `flag:"write-keys" help:"accepted write keys, comma-separated key=source[:events-per-second[:burst]] entries"`
	// MaxBodyBytes bounds a request body after gzip decompression; a larger one gets 413.
	MaxBodyBytes int64 `flag:"collector-max-body-bytes" help:"largest request body accepted, after decompression (413 beyond)"`
	// MaxInFlight bounds the events (valid and rejected) being produced at once; a request that
	// finds no room gets 429 with Retry-After. A request with more events than MaxInFlight needs
	// the whole room to itself.
	MaxInFlight int `flag:"collector-max-in-flight" help:"events being produced to Kafka at once; beyond, requests get 429"`
	// RetryAfter is what a 429 answer for a full room tells the client to wait (a rate-limited
	// key is told how long its bucket needs instead).
	RetryAfter time.Duration `flag:"collector-retry-after" help:"Retry-After sent with 429 answers when the collector is busy"`
	// ProduceTimeout bounds the wait for Kafka to acknowledge a request's records; past it the
	// answer is 503 and the client retries.
	ProduceTimeout time.Duration `flag:"collector-produce-timeout" help:"how long a request waits for Kafka's acknowledgement before 503"`
	// TrustedProxies are the networks (CIDRs, or single addresses) of the load balancers in
	// front of the collector. Only for a request whose peer is one of them is the client address
	// taken from the first hop of X-Forwarded-For; otherwise it is the peer address. Empty: trust
	// no one.
	TrustedProxies []string `flag:"collector-trusted-proxies" help:"CIDRs of trusted proxies whose X-Forwarded-For first hop is taken as the client address"`
	// ReadyInterval is how long a /readyz broker check is reused before the next request checks
	// again.
	ReadyInterval time.Duration `flag:"collector-ready-interval" help:"how long /readyz reuses its last broker check"`
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
		ReadyInterval:  5 * time.Second,
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
	if _, err := parseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.ReadyInterval <= 0 {
		return fmt.Errorf("collector-ready-interval: %s: want more than 0", c.ReadyInterval)
	}
	return nil
}

// writeKey is one parsed WriteKeys entry.
type writeKey struct {
	source string
	rate   float64 // events/s; 0: unlimited
	burst  int
}

// maxRate bounds a key's rate: more is a typo, not a plan.
const maxRate = 1e7

// parseWriteKeys maps each write key to its source and limit.
func parseWriteKeys(entries []string) (map[string]writeKey, error) {
	if len(entries) == 0 {
		return nil, errors.New("write-keys: at least one key=source entry is required")
	}
	keys := make(map[string]writeKey, len(entries))
	for i, e := range entries {
		key, wk, err := parseWriteKey(e)
		if err != nil {
			return nil, fmt.Errorf("write-keys: entry %d %q: %w", i+1, e, err)
		}
		if _, dup := keys[key]; dup {
			return nil, fmt.Errorf("write-keys: entry %d %q: key %q is given twice", i+1, e, key)
		}
		keys[key] = wk
	}
	return keys, nil
}

func parseWriteKey(e string) (string, writeKey, error) {
	key, rest, ok := strings.Cut(e, "=")
	key = strings.TrimSpace(key)
	parts := strings.Split(rest, ":")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if !ok || key == "" || parts[0] == "" {
		return "", writeKey{}, errors.New("want key=source[:rate[:burst]]")
	}
	if len(parts) > 3 {
		return "", writeKey{}, errors.New("too many fields: want key=source[:rate[:burst]]")
	}
	wk := writeKey{source: parts[0]}
	if len(parts) >= 2 {
		r, err := strconv.ParseFloat(parts[1], 64)
		if err != nil || math.IsNaN(r) || r <= 0 || r > maxRate {
			return "", writeKey{}, fmt.Errorf("rate %q: want events per second, a number above 0 and at most %g (leave it out for no limit)", parts[1], float64(maxRate))
		}
		wk.rate = r
		wk.burst = int(math.Ceil(r))
	}
	if len(parts) == 3 {
		b, err := strconv.Atoi(parts[2])
		if err != nil || b < 1 || b > maxRate {
			return "", writeKey{}, fmt.Errorf("burst %q: want a whole number of events, at least 1 and at most %g", parts[2], float64(maxRate))
		}
		wk.burst = b
	}
	return key, wk, nil
}

// parseTrustedProxies reads CIDRs or single addresses.
func parseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("collector-trusted-proxies: entry %d %q: want a CIDR (10.0.0.0/8) or an address", i+1, e)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
