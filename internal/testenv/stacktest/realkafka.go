package stacktest

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines"
)

// startReal points the stack at a real, shared Kafka as if it were a fresh broker of the
// test's own: every topic the collector and the pipelines derive carries a prefix of the
// test's own (testenv.KafkaBroker.PrefixedBus, bus.Config.TopicPrefix), and the pipelines'
// consumer groups a suffix of its own, so stacks of concurrent tests never meet. Topics and
// groups are deleted when the test passes.
func (s *Stack) startReal(k *testenv.KafkaBroker) {
	s.t.Helper()
	s.Bus = k.PrefixedBus()
	s.realID = k.ID()
	s.t.Logf("stacktest: real kafka %v (topics prefixed %s; consumer groups suffixed .%s)", s.Bus.Brokers, s.Bus.TopicPrefix, k.ID())
}

// pipelineConfig returns cfg as the stack runs it: unchanged on the embedded broker; on a real
// one with the test's suffix on every consumer group.
func (s *Stack) pipelineConfig(cfg pipelines.Config) pipelines.Config {
	if s.realID == "" {
		return cfg
	}
	cfg.Group += "." + s.realID
	cfg.DLQGroup += "." + s.realID
	cfg.CleanGroup += "." + s.realID
	return cfg
}

// consumeFromStart returns the consumer options that read the stack's copy of topic (a
// platform name such as bus.EventsTopic, under the stack's topic prefix) from its start.
func (s *Stack) consumeFromStart(topic string) []kgo.Opt {
	return []kgo.Opt{kgo.ConsumeTopics(s.Bus.TopicPrefix + topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
}
