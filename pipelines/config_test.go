package pipelines

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	mod := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	tests := []struct {
		name string
		cfg  Config
		flag string // the flag the error names; "" for no error
	}{
		{"default", DefaultConfig(), ""},
		{"no runner", mod(func(c *Config) { c.Runner = "" }), "pipeline-runner"},
		{"no interval", mod(func(c *Config) { c.Interval = 0 }), "pipeline-interval"},
		{"no group", mod(func(c *Config) { c.Group = "" }), "pipeline-group"},
		{"no dlq group", mod(func(c *Config) { c.DLQGroup = "" }), "pipeline-dlq-group"},
		{"shared group", mod(func(c *Config) { c.DLQGroup = c.Group }), "pipeline-dlq-group"},
		{"no clean group", mod(func(c *Config) { c.CleanGroup = "" }), "pipeline-clean-group"},
		{"clean group prefixes events group", mod(func(c *Config) { c.CleanGroup = "citypulse-pipeline" }), "pipeline-clean-group"},
		{"short hash key", mod(func(c *Config) { c.CleanHashKey = "secret" }), "clean-hash-key"},
		{"no range", mod(func(c *Config) { c.MaxRangeRecords = 0 }), "pipeline-max-range-records"},
		{"run below range", mod(func(c *Config) { c.MaxRunRecords = c.MaxRangeRecords - 1 }), "pipeline-max-run-records"},
		{"no batch", mod(func(c *Config) { c.BatchRows = -1 }), "pipeline-batch-rows"},
		{"bad zone", mod(func(c *Config) { c.Timezone = "Mars/Olympus" }), "timezone"},
		{"slow is fine", mod(func(c *Config) { c.Interval = time.Hour }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.flag == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.flag+":")):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.flag)
			}
		})
	}
}
