package collector

import (
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
		{"key without source", func(c *Config) { c.WriteKeys = []string{"abc"} }, "key=source"},
		{"empty source", func(c *Config) { c.WriteKeys = []string{"abc="} }, "key=source"},
		{"duplicate key", func(c *Config) { c.WriteKeys = []string{"a=x", "a=y"} }, "twice"},
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
