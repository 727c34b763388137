package pipelines

import (
	"fmt"
	"strings"
	"time"

	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/cleaning"
)

// Config configures the pipeline runner.
type Config struct {
	// Runner is the Beam runner of the micro-batch pipelines: "prism" (the default) follows
	// Beam.Runner; any other name (flink, universal, portable) overrides it for these pipelines.
	Runner string `flag:"pipeline-runner" help:"Beam runner for the micro-batch pipelines (prism = as beam-runner; flink, universal or portable override it)"`
	// Beam is the runner every pipeline of the process runs on and, for portable runners (Flink),
	// the job server and the workers' environment: flags beam-runner, beam-endpoint,
	// beam-environment-type, beam-environment-config, beam-connect-timeout.
	Beam beamrun.Options
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
	// CleanEncryptionKey is the AES-256 key (32 bytes, as 64 hex digits or base64) that encrypts
	// personal fields (resident IDs, mobiles, …) into the <field>_enc columns of dwd_ tables.
	// Losing it loses those values; they stay joinable by hash and readable masked.
	CleanEncryptionKey string `flag:"clean-encryption-key" help:"AES-256 key of the encrypted personal fields in dwd_ tables: 32 bytes as 64 hex digits or base64; the default is a fixed DEVELOPMENT key, public in the source: set your own in production"`
	// CleanEncryptionKeyID names CleanEncryptionKey in every value it encrypts ("k1:…"), so keys
	// can rotate: give a new key a new id, and keep the old key to read the old values.
	CleanEncryptionKeyID string `flag:"clean-encryption-key-id" help:"id of clean-encryption-key, stored as the prefix of every encrypted value (1-16 of a-z A-Z 0-9 _ -); change it with the key"`
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

// DevCleanEncryptionKey is the default clean-encryption-key: the hex of the 32 ASCII bytes
// "citypulse-DEV-ONLY-personal-key!", a development key, public in the source, so values
// encrypted with it are readable by anyone.
const DevCleanEncryptionKey = "6369747970756c73652d4445562d4f4e4c592d706572736f6e616c2d6b657921"

// DefaultConfig returns the settings of the local stack.
func DefaultConfig() Config {
	return Config{
		Runner:               "prism",
		Beam:                 beamrun.Default(),
		Interval:             5 * time.Second,
		Group:                "citypulse-pipeline-events",
		DLQGroup:             "citypulse-pipeline-bad-events",
		CleanGroup:           "citypulse-pipeline-clean",
		CleanHashKey:         DevCleanHashKey,
		CleanEncryptionKey:   DevCleanEncryptionKey,
		CleanEncryptionKeyID: "k1",
		MaxRangeRecords:      50_000,
		MaxRunRecords:        500_000,
		BatchRows:            50_000,
		Timezone:             "Asia/Shanghai",
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
	if err := c.BeamOptions("").Validate(); err != nil {
		return err
	}
	if _, err := cleaning.ParseEncryptionKey(c.CleanEncryptionKey); err != nil {
		return fmt.Errorf("clean-encryption-key: %w", err)
	}
	if err := cleaning.CheckKeyID(c.CleanEncryptionKeyID); err != nil {
		return fmt.Errorf("clean-encryption-key-id: %w", err)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("timezone: %q: %w", c.Timezone, err)
	}
	return nil
}

// BeamOptions are the Beam options of the micro-batch pipelines: Beam with Runner overridden by
// pipeline-runner when that is not the default, and the job named.
func (c Config) BeamOptions(job string) beamrun.Options {
	return c.Beam.Override(c.Runner).Named(job)
}
