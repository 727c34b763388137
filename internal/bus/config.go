package bus

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Topic names with an empty Config.TopicPrefix. Every event topic is versioned: a change of wire
// format is a new topic. Code that produces, consumes or creates topics takes their names from
// Config.Topics, which puts the installation's prefix in front.
const (
	// EventsTopic carries ingest/event.Event JSON, keyed by user id (else anonymous id).
	EventsTopic = "citypulse.events.v1"
	// DLQTopic carries ingest/event.DeadLetter JSON for events that failed validation.
	DLQTopic = "citypulse.events.dlq.v1"
)

// MaxPartitions bounds Config.Partitions; more is a typo, not a plan.
const MaxPartitions = 1024

// Config is how CityPulse reaches its Kafka-protocol broker.
type Config struct {
	// Brokers are the seed brokers (host:port). With Embedded, the embedded broker listens on the
	// first one; port 0 picks a free port (see Embedded.Addrs).
	Brokers []string `flag:"kafka-brokers" help:"Kafka seed brokers, comma-separated host:port; the embedded broker listens on the first"`
	// Embedded makes `citypulse up` run a single-node broker in-process.
	Embedded bool `flag:"kafka-embedded" help:"run the embedded Kafka-protocol broker in-process (citypulse up)"`
	// DataDir is where the embedded broker persists topics, records and offsets. Empty keeps
	// everything in memory: a restart loses it all.
	DataDir string `flag:"kafka-data-dir" help:"data directory of the embedded broker (empty: memory only, lost on restart)"`
	// SyncWrites makes the embedded broker fsync every produced batch before acknowledging it, so
	// an acknowledged record also survives a machine crash, not just a process crash.
	SyncWrites bool `flag:"kafka-sync-writes" help:"fsync every produced batch in the embedded broker before acknowledging (survives machine crashes; slower)"`
	// Partitions is the partition count of the topics CityPulse creates.
	Partitions int `flag:"kafka-partitions" help:"partitions of the topics CityPulse creates"`
	// TopicPrefix starts the name of every topic CityPulse produces to, consumes or creates
	// (see Topics): empty keeps the platform's names (citypulse.events.v1, …); e.g. "staging."
	// lets a second installation share the cluster. Every component of one installation must
	// be given the same prefix.
	TopicPrefix string `flag:"kafka-topic-prefix" help:"prefix of every Kafka topic name CityPulse uses (empty: citypulse.events.v1 etc.; all components of one installation need the same)"`
}

// DefaultConfig serves the local stack: an embedded broker on 127.0.0.1:19092 persisting to
// var/kafka, four partitions per topic.
func DefaultConfig() Config {
	return Config{
		Brokers:    []string{"127.0.0.1:19092"},
		Embedded:   true,
		DataDir:    "var/kafka",
		Partitions: 4,
	}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka-brokers: at least one broker is required")
	}
	for _, b := range c.Brokers {
		if _, _, err := splitHostPort(b); err != nil {
			return fmt.Errorf("kafka-brokers: %q: %w", b, err)
		}
	}
	if c.Partitions < 1 || c.Partitions > MaxPartitions {
		return fmt.Errorf("kafka-partitions: %d: want 1 to %d", c.Partitions, MaxPartitions)
	}
	if err := ValidateTopicPrefix(c.TopicPrefix); err != nil {
		return fmt.Errorf("kafka-topic-prefix: %w", err)
	}
	if c.Embedded {
		host, _, _ := splitHostPort(c.Brokers[0])
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			return fmt.Errorf("kafka-brokers: the embedded broker advertises the address it listens on, so the first broker needs a concrete host, not %q", c.Brokers[0])
		}
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want 0 to 65535", p)
	}
	return host, port, nil
}
