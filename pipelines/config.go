package pipelines

import (
	"fmt"
	"strings"
	"time"
)

// Config configures the pipeline runner.
type Config struct {
	// Runner is the Beam runner: "prism" runs in-process; others (e.g. "universal" with
	// --endpoint for Flink) come with issue 5.
	Runner string `flag:"pipeline-runner" help:"Beam runner for the pipelines (prism = in-process)"`
	// Interval is the pause between two runs when the previous run found nothing or finished.
	Interval time.Duration `flag:"pipeline-interval" help:"pause between pipeline runs"`
	// Group is the Kafka consumer group whose committed offsets mark the events already written.
	Group string `flag:"pipeline-group" help:"Kafka consumer group holding the events pipeline's progress"`
	// DLQGroup is the Kafka consumer group whose committed offsets mark the dead letters already
	// stored in ods_bad_events by the bad-events pipeline.
	DLQGroup string `flag:"pipeline-dlq-group" help:"Kafka consumer group holding the bad-events (dead-letter) pipeline's progress"`
	// CleanGroup prefixes the Kafka consumer groups of the cleaning pipelines: one group per
	// dataset, "<CleanGroup>-<dataset>" (e.g. citypulse-pipeline-clean-person).
	CleanGroup string `flag:"pipeline-clean-group" help:"prefix of the Kafka consumer groups holding the feed cleaning pipelines' progress (one per dataset: <prefix>-<dataset>)"`
	// CleanHashKey keys the identity hash and the hashes of personal fields (HMAC-SHA256) in the
	// clean tables. Changing it changes every identity key, so set it once per deployment.
	CleanHashKey string `flag:"clean-hash-key" help:"secret key of the identity and personal-field hashes in dwd_ tables (HMAC-SHA256); the default is a fixed DEVELOPMENT key, public in the source: set your own in production"`
	// MaxRangeRecords cuts a partition's backlog into ranges of at most this many records.
	MaxRangeRecords int64 `flag:"pipeline-max-range-records" help:"largest offset range one pipeline element reads"`
	// MaxRunRecords caps the records one run takes, so a large backlog is drained in steps that
	// each commit progress.
	MaxRunRecords int64 `flag:"pipeline-max-run-records" help:"most records one pipeline run reads (the rest waits for the next run)"`
	// BatchRows is the ClickHouse insert batch size.
	BatchRows int `flag:"pipeline-batch-rows" help:"rows per ClickHouse insert"`
	// Timezone is the city's zone; event dates are local dates in it.
	Timezone string `flag:"timezone" help:"time zone of event dates (IANA name)"`
}

// DevCleanHashKey is the default clean-hash-key: a development key, public in the source, so
// hashes made with it protect nothing.
const DevCleanHashKey = "citypulse-dev-clean-hash-key-NOT-FOR-PRODUCTION"

// DefaultConfig returns the settings of the local stack.
func DefaultConfig() Config {
	return Config{
		Runner:          "prism",
		Interval:        5 * time.Second,
		Group:           "citypulse-pipeline-events",
		DLQGroup:        "citypulse-pipeline-bad-events",
		CleanGroup:      "citypulse-pipeline-clean",
		CleanHashKey:    DevCleanHashKey,
		MaxRangeRecords: 50_000,
		MaxRunRecords:   500_000,
		BatchRows:       50_000,
		Timezone:        "Asia/Shanghai",
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Runner == "":
		return fmt.Errorf("pipeline-runner: empty")
	case c.Interval <= 0:
		return fmt.Errorf("pipeline-interval: %s: want > 0", c.Interval)
	case c.Group == "":
		return fmt.Errorf("pipeline-group: empty")
	case c.DLQGroup == "":
		return fmt.Errorf("pipeline-dlq-group: empty")
	case c.DLQGroup == c.Group:
		return fmt.Errorf("pipeline-dlq-group: %q is also pipeline-group: each pipeline needs its own group", c.DLQGroup)
	case c.CleanGroup == "":
		return fmt.Errorf("pipeline-clean-group: empty")
	case strings.HasPrefix(c.Group, c.CleanGroup+"-") || strings.HasPrefix(c.DLQGroup, c.CleanGroup+"-"):
		return fmt.Errorf("pipeline-clean-group: %q prefixes another pipeline's group: each pipeline needs its own group", c.CleanGroup)
	case len(c.CleanHashKey) < 16:
		return fmt.Errorf("clean-hash-key: %d bytes: want at least 16", len(c.CleanHashKey))
	case c.MaxRangeRecords <= 0:
		return fmt.Errorf("pipeline-max-range-records: %d: want > 0", c.MaxRangeRecords)
	case c.MaxRunRecords < c.MaxRangeRecords:
		return fmt.Errorf("pipeline-max-run-records: %d: want ≥ pipeline-max-range-records (%d)", c.MaxRunRecords, c.MaxRangeRecords)
	case c.BatchRows <= 0:
		return fmt.Errorf("pipeline-batch-rows: %d: want > 0", c.BatchRows)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("timezone: %q: %w", c.Timezone, err)
	}
	return nil
}
