package collector

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"default", func(*Config) {}, ""},
		{"several keys", func(c *Config) { c.WriteKeys = []string{"a=app1", " b = app2 "} }, ""},
		{"no listen", func(c *Config) { c.Listen = "" }, "collector-listen"},
		{"no keys", func(c *Config) { c.WriteKeys = nil }, "write-keys"},
		{"key without source", func(c *Config) { c.WriteKeys = []string{"abc"} }, `entry 1 "abc": want key=source`},
		{"empty source", func(c *Config) { c.WriteKeys = []string{"abc="} }, "key=source"},
		{"duplicate key", func(c *Config) { c.WriteKeys = []string{"a=x", "a=y"} }, `entry 2 "a=y": key "a" is given twice`},
		{"bad rate", func(c *Config) { c.WriteKeys = []string{"a=x", "b=y:fast"} }, `entry 2 "b=y:fast": rate "fast"`},
		{"bad burst", func(c *Config) { c.WriteKeys = []string{"b=y:10:0"} }, `burst "0"`},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "fd00::/8"} }, ""},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "lb.local"} }, `collector-trusted-proxies: entry 2 "lb.local"`},
		{"zero ready interval", func(c *Config) { c.ReadyInterval = 0 }, "collector-ready-interval"},
		{"zero body", func(c *Config) { c.MaxBodyBytes = 0 }, "collector-max-body-bytes"},
		{"zero in flight", func(c *Config) { c.MaxInFlight = 0 }, "collector-max-in-flight"},
		{"negative retry", func(c *Config) { c.RetryAfter = -time.Second }, "collector-retry-after"},
		{"zero produce timeout", func(c *Config) { c.ProduceTimeout = 0 }, "collector-produce-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	if got := retryAfterSeconds(1500 * time.Millisecond); got != 2 {
		t.Errorf("retryAfterSeconds(1.5s) = %d", got)
	}
	if got := retryAfterSeconds(0); got != 1 {
		t.Errorf("retryAfterSeconds(0) = %d", got)
	}
}

func TestParseWriteKeys(t *testing.T) {
	tests := []struct {
		entry   string
		key     string
		want    writeKey
		wantErr string
	}{
		{"k=app", "k", writeKey{source: "app"}, ""},
		{" k = app ", "k", writeKey{source: "app"}, ""},
		{"k1=h5-app:2000:4000", "k1", writeKey{source: "h5-app", rate: 2000, burst: 4000}, ""},
		{"k=app:2000", "k", writeKey{source: "app", rate: 2000, burst: 2000}, ""},
		{"k=app:0.5", "k", writeKey{source: "app", rate: 0.5, burst: 1}, ""},
		{"k=app: 10 : 20 ", "k", writeKey{source: "app", rate: 10, burst: 20}, ""},
		{"k=app:0", "", writeKey{}, `rate "0"`},
		{"k=app:-5", "", writeKey{}, `rate "-5"`},
		{"k=app:NaN", "", writeKey{}, `rate "NaN"`},
		{"k=app:1e99", "", writeKey{}, `rate "1e99"`},
		{"k=app:", "", writeKey{}, `rate ""`},
		{"k=app:10:", "", writeKey{}, `burst ""`},
		{"k=app:10:1.5", "", writeKey{}, `burst "1.5"`},
		{"k=app:10:20:30", "", writeKey{}, "too many fields"},
		{"k=:10", "", writeKey{}, "want key=source"},
		{"=app", "", writeKey{}, "want key=source"},
		{"app", "", writeKey{}, "want key=source"},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			keys, err := parseWriteKeys([]string{"first=app", tt.entry})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "entry 2") {
					t.Fatalf("err = %v, want one naming entry 2 and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := keys[tt.key]; got != tt.want {
				t.Errorf("keys[%q] = %+v, want %+v", tt.key, got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := parseTrustedProxies([]string{"10.1.2.3/8", " 192.0.2.1 ", "", "::ffff:198.51.100.7", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.0.2.1/32 198.51.100.7/32 2001:db8::/32]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func FuzzParseWriteKeys(f *testing.F) {
	for _, s := range []string{"k=app", "k1=h5-app:2000:4000", "k=app:0.5", "k=app:1e99", "=::", "k=a:b:c:d", "k=app:+Inf:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		keys, err := parseWriteKeys([]string{entry})
		if err != nil {
			return
		}
		for k, wk := range keys {
			if k == "" || wk.source == "" || wk.rate < 0 || wk.rate > maxRate || (wk.rate > 0) != (wk.burst > 0) {
				t.Fatalf("%q: key %q → %+v", entry, k, wk)
			}
		}
	})
}
