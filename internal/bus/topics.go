package bus

import (
	"fmt"
	"regexp"
)

// MaxTopicPrefixLen bounds Config.TopicPrefix so that the longest name CityPulse derives (a feed
// topic of a MaxDatasetLen dataset) stays within Kafka's 249 characters.
const MaxTopicPrefixLen = 249 - len("citypulse.feeds.") - MaxDatasetLen - len(".v1")

// topicPrefixRE is what Kafka allows in a topic name.
var topicPrefixRE = regexp.MustCompile(`^[a-zA-Z0-9._-]*$`)

// ValidateTopicPrefix returns nil when prefix can start every CityPulse topic name: at most
// MaxTopicPrefixLen of Kafka's topic characters (ASCII letters, digits, '.', '_', '-'). Empty is
// valid: the platform's own names.
func ValidateTopicPrefix(prefix string) error {
	if len(prefix) > MaxTopicPrefixLen || !topicPrefixRE.MatchString(prefix) {
		return fmt.Errorf("topic prefix %q: want at most %d of a-z A-Z 0-9 . _ -", prefix, MaxTopicPrefixLen)
	}
	return nil
}

// Topics derives every topic name of one CityPulse installation. The zero value gives the
// platform's own names (EventsTopic, DLQTopic, FeedsTopic); a Prefix is put in front of each, so
// that several installations (or tests) share one Kafka cluster without reading each other's
// records. Producers and consumers must take their names from the same Topics, which
// Config.Topics gives them.
type Topics struct {
	// Prefix starts every name, as is: "" or e.g. "staging." (see ValidateTopicPrefix).
	Prefix string
}

// Topics returns the topic names of the installation c configures (its TopicPrefix).
func (c Config) Topics() Topics { return Topics{Prefix: c.TopicPrefix} }

// Events is the events topic: Prefix + EventsTopic.
func (t Topics) Events() string { return t.Prefix + EventsTopic }

// DLQ is the dead-letter topic: Prefix + DLQTopic.
func (t Topics) DLQ() string { return t.Prefix + DLQTopic }

// Feeds is the topic of a feed dataset: Prefix + FeedsTopic(dataset), or "" for a name
// ValidateDataset refuses.
func (t Topics) Feeds(dataset string) string {
	topic := FeedsTopic(dataset)
	if topic == "" {
		return ""
	}
	return t.Prefix + topic
}

// Core are the topics every installation has from the start (the collector's): Events and DLQ.
// StartEmbedded and the collector create them; feed topics are created when a feed ships.
func (t Topics) Core() []string { return []string{t.Events(), t.DLQ()} }
