package testenv

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
)

// SharedTopics lets a test use CityPulse's fixed topic names (the collector's and the
// pipelines': bus.EventsTopic, bus.DLQTopic, bus.FeedsTopic(…)) on a real broker as if the
// broker were its own, which on an embedded broker it is. See KafkaBroker.ShareTopics.
type SharedTopics struct {
	k      *KafkaBroker
	starts map[string]map[int32]int64 // topic → partition → end offset when the test began
	seeded map[string]bool            // groups already started at those offsets
}

// ShareTopics takes the broker's shared-topics lock for the rest of the test (LockSharedTopics:
// no other test uses these names meanwhile) and records where each of topics ends now, so that
// the test reads only what it wrote: ConsumeFromStart reads a topic from there, and StartGroup
// starts a consumer group there. Topics that do not exist yet start at 0. On an embedded broker,
// the test's own, nothing is locked or recorded: topics are read from their real start.
func (k *KafkaBroker) ShareTopics(topics ...string) *SharedTopics {
	k.t.Helper()
	st := &SharedTopics{k: k, starts: map[string]map[int32]int64{}, seeded: map[string]bool{}}
	if !k.External() || len(topics) == 0 {
		return st
	}
	k.LockSharedTopics()
	cl, err := bus.NewClient(k.Bus)
	if err != nil {
		k.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		k.t.Fatalf("kafka %v: list end offsets of %v: %v", k.Bus.Brokers, topics, err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil { // a topic nobody created yet: it will start at 0
			return
		}
		if st.starts[o.Topic] == nil {
			st.starts[o.Topic] = map[int32]int64{}
		}
		st.starts[o.Topic][o.Partition] = o.Offset
	})
	return st
}

// ConsumeFromStart returns consumer options that read topic from where the test began.
func (st *SharedTopics) ConsumeFromStart(topic string) []kgo.Opt {
	if starts := st.starts[topic]; len(starts) > 0 {
		parts := make(map[int32]kgo.Offset, len(starts))
		for p, o := range starts {
			parts[p] = kgo.NewOffset().At(o)
		}
		return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})}
	}
	return []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
}

// StartGroup commits, once per group, where topic was when the test began as group's offsets,
// so that a consumer group the test has not used yet behaves as a new group on a fresh broker.
// Give groups a per-test name (suffix KafkaBroker.ID) so that they are new on the broker.
func (st *SharedTopics) StartGroup(group, topic string) {
	st.k.t.Helper()
	if st.seeded[group] {
		return
	}
	st.seeded[group] = true
	offs := kadm.Offsets{}
	for p, o := range st.starts[topic] {
		offs.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
	}
	if len(offs) == 0 {
		return
	}
	cl, err := bus.NewClient(st.k.Bus)
	if err != nil {
		st.k.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, group, offs); err != nil {
		st.k.t.Fatalf("kafka: start group %s at the test's offsets of %s: %v", group, topic, err)
	}
}
