package bus

import (
	"strings"
	"testing"
)

func TestTopics(t *testing.T) {
	long := strings.Repeat("a", MaxDatasetLen)
	tests := []struct {
		prefix                 string
		events, dlq, feed, bad string
	}{
		{"", "citypulse.events.v1", "citypulse.events.dlq.v1", "citypulse.feeds.person_house.v1", ""},
		{"test_x_1a2b.", "test_x_1a2b.citypulse.events.v1", "test_x_1a2b.citypulse.events.dlq.v1", "test_x_1a2b.citypulse.feeds.person_house.v1", ""},
		{"staging-", "staging-citypulse.events.v1", "staging-citypulse.events.dlq.v1", "staging-citypulse.feeds.person_house.v1", ""},
	}
	for _, tt := range tests {
		tp := Config{TopicPrefix: tt.prefix}.Topics()
		if got := tp.Events(); got != tt.events {
			t.Errorf("prefix %q: Events() = %q, want %q", tt.prefix, got, tt.events)
		}
		if got := tp.DLQ(); got != tt.dlq {
			t.Errorf("prefix %q: DLQ() = %q, want %q", tt.prefix, got, tt.dlq)
		}
		if got := tp.Feeds("person_house"); got != tt.feed {
			t.Errorf("prefix %q: Feeds(person_house) = %q, want %q", tt.prefix, got, tt.feed)
		}
		if got := tp.Feeds("a.b"); got != tt.bad {
			t.Errorf("prefix %q: Feeds(a.b) = %q, want %q", tt.prefix, got, tt.bad)
		}
		if got := tp.Core(); len(got) != 2 || got[0] != tt.events || got[1] != tt.dlq {
			t.Errorf("prefix %q: Core() = %q", tt.prefix, got)
		}
	}
	// The longest prefix with the longest dataset is still a legal Kafka topic name.
	max := Topics{Prefix: strings.Repeat("p", MaxTopicPrefixLen)}
	if n := len(max.Feeds(long)); n != 249 {
		t.Errorf("longest feed topic has %d characters, want Kafka's limit 249", n)
	}
}

func TestValidateTopicPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"staging.", true},
		{"test_Abc-1.", true},
		{strings.Repeat("p", MaxTopicPrefixLen), true},
		{strings.Repeat("p", MaxTopicPrefixLen+1), false},
		{"a b.", false},
		{"a/b.", false},
		{"测试.", false},
	}
	for _, tt := range tests {
		err := ValidateTopicPrefix(tt.prefix)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateTopicPrefix(%q) = %v, want ok %v", tt.prefix, err, tt.ok)
		}
		cfg := DefaultConfig()
		cfg.TopicPrefix = tt.prefix
		if err := cfg.Validate(); (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "kafka-topic-prefix")) {
			t.Errorf("Validate with prefix %q = %v, want ok %v (error naming kafka-topic-prefix)", tt.prefix, err, tt.ok)
		}
	}
}
