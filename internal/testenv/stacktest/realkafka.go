package stacktest

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/cleaning"
)

// realBroker is what a stack on a real, shared Kafka needs to look like a stack on a fresh
// embedded broker. The collector and the pipelines use CityPulse's fixed topic names, so the
// stack holds those topics for the whole test and reads them from where the test began
// (testenv.SharedTopics), and gives the pipelines' consumer groups a per-test suffix, each
// started at the test's offsets before its first run.
type realBroker struct {
	k      *testenv.KafkaBroker
	shared *testenv.SharedTopics
}

// sharedTopics are the fixed topics the collector and the pipelines use.
func sharedTopics() []string {
	topics := []string{bus.EventsTopic, bus.DLQTopic}
	for _, ds := range slices.Sorted(maps.Keys(cleaning.Specs)) {
		topics = append(topics, bus.FeedsTopic(ds))
	}
	return topics
}

func (s *Stack) startReal(k *testenv.KafkaBroker) {
	s.t.Helper()
	s.Bus = k.Bus
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// As StartEmbedded does; before ShareTopics, so their start offsets are recorded.
	if err := bus.EnsureTopics(ctx, cl, s.Bus.Partitions, bus.EventsTopic, bus.DLQTopic); err != nil {
		s.t.Fatalf("real kafka %v: %v", s.Bus.Brokers, err)
	}
	s.real = &realBroker{k: k, shared: k.ShareTopics(sharedTopics()...)}
	s.t.Logf("stacktest: real kafka %v (shared topics read from where this test began; consumer groups suffixed .%s)", s.Bus.Brokers, k.ID())
}

// pipelineConfig returns cfg as the stack runs it: unchanged on the embedded broker; on a real
// one with the test's suffix on every consumer group, each group starting where the test began.
func (s *Stack) pipelineConfig(cfg pipelines.Config) pipelines.Config {
	s.t.Helper()
	if s.real == nil {
		return cfg
	}
	id := s.real.k.ID()
	cfg.Group += "." + id
	cfg.DLQGroup += "." + id
	cfg.CleanGroup += "." + id
	s.real.shared.StartGroup(cfg.Group, bus.EventsTopic)
	s.real.shared.StartGroup(cfg.DLQGroup, bus.DLQTopic)
	for ds := range cleaning.Specs {
		s.real.shared.StartGroup(cfg.CleanGroup+"-"+ds, bus.FeedsTopic(ds))
	}
	return cfg
}

// consumeFromStart returns the consumer options that read topic from its start: on a real
// broker, from where it was when the stack started.
func (s *Stack) consumeFromStart(topic string) []kgo.Opt {
	if s.real != nil {
		return s.real.shared.ConsumeFromStart(topic)
	}
	return []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
}
