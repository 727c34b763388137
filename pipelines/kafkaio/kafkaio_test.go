package kafkaio_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// testBroker is the test's broker (testenv.Kafka: an embedded one of its own, or the real one
// $CITYPULSE_TEST_KAFKA names) with an events topic of the test's own in 2 partitions.
type testBroker struct {
	k     *testenv.KafkaBroker
	cfg   bus.Config
	cl    *kgo.Client // produces to the partition a record names
	topic string
}

func broker(t *testing.T) testBroker {
	t.Helper()
	k := testenv.Kafka(t)
	topic := k.CreateTopics(2, bus.EventsTopic)[0]
	return testBroker{k: k, cfg: k.Bus, cl: k.Client(kgo.RecordPartitioner(kgo.ManualPartitioner())), topic: topic}
}

// group returns a consumer group name of the test's own.
func (b testBroker) group(name string) string { return name + "." + b.k.ID() }

func produce(t *testing.T, cl *kgo.Client, topic string, partition int32, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprintf("p%d-%d", partition, i))}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlanReadCommit(t *testing.T) {
	b := broker(t)
	cfg, cl, topic, g := b.cfg, b.cl, b.topic, b.group("g")
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	produce(t, cl, topic, 0, 5)
	produce(t, cl, topic, 1, 2)

	ranges, err := kafkaio.PlanRanges(ctx, adm, g, topic, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []kafkaio.OffsetRange{
		{Topic: topic, Partition: 0, Start: 0, End: 2},
		{Topic: topic, Partition: 0, Start: 2, End: 4},
		{Topic: topic, Partition: 0, Start: 4, End: 5},
		{Topic: topic, Partition: 1, Start: 0, End: 2},
	}
	if !reflect.DeepEqual(ranges, want) {
		t.Fatalf("ranges %v, want %v", ranges, want)
	}

	// ReadFn emits exactly the range's records, in order.
	var got []string
	fn := &kafkaio.ReadFn{Brokers: cfg.Brokers, IdleTimeout: 10 * time.Second}
	if err := fn.ProcessElement(ctx, want[1], func(r kafkaio.Record) { got = append(got, fmt.Sprintf("%d:%s", r.Offset, r.Value)) }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"2:p0-2", "3:p0-3"}) {
		t.Fatalf("read %v", got)
	}

	// After a commit of the first ranges only, planning resumes there.
	if err := kafkaio.Commit(ctx, adm, g, want[:2]); err != nil {
		t.Fatal(err)
	}
	ranges, err = kafkaio.PlanRanges(ctx, adm, g, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	want = []kafkaio.OffsetRange{
		{Topic: topic, Partition: 0, Start: 4, End: 5},
		{Topic: topic, Partition: 1, Start: 0, End: 2},
	}
	if !reflect.DeepEqual(ranges, want) {
		t.Fatalf("after commit: ranges %v, want %v", ranges, want)
	}
	if err := kafkaio.Commit(ctx, adm, g, ranges); err != nil {
		t.Fatal(err)
	}
	if ranges, err = kafkaio.PlanRanges(ctx, adm, g, topic, 0); err != nil || len(ranges) != 0 {
		t.Fatalf("after committing everything: %v %v", ranges, err)
	}
}

func TestReadFnFailsOnMissingRecords(t *testing.T) {
	b := broker(t)
	cfg, topic := b.cfg, b.topic
	produce(t, b.cl, topic, 0, 1)
	fn := &kafkaio.ReadFn{Brokers: cfg.Brokers, IdleTimeout: 500 * time.Millisecond}
	r := kafkaio.OffsetRange{Topic: topic, Partition: 0, Start: 0, End: 3} // only offset 0 exists
	n := 0
	err := fn.ProcessElement(context.Background(), r, func(kafkaio.Record) { n++ })
	if err == nil || n != 1 {
		t.Fatalf("read %d records, err %v; want 1 record and an error for the missing ones", n, err)
	}
}
