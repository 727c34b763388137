package kafkaio_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// broker starts the embedded broker with the events topic in 2 partitions and returns a client.
func broker(t *testing.T) (bus.Config, *kgo.Client) {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.DataDir, cfg.Partitions = []string{"127.0.0.1:0"}, t.TempDir(), 2
	emb, err := bus.StartEmbedded(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	cfg.Brokers = emb.Addrs()
	cl, err := bus.NewClient(cfg, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cfg, cl
}

func produce(t *testing.T, cl *kgo.Client, partition int32, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: bus.EventsTopic, Partition: partition, Value: []byte(fmt.Sprintf("p%d-%d", partition, i))}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlanReadCommit(t *testing.T) {
	cfg, cl := broker(t)
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	produce(t, cl, 0, 5)
	produce(t, cl, 1, 2)

	ranges, err := kafkaio.PlanRanges(ctx, adm, "g", bus.EventsTopic, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []kafkaio.OffsetRange{
		{Topic: bus.EventsTopic, Partition: 0, Start: 0, End: 2},
		{Topic: bus.EventsTopic, Partition: 0, Start: 2, End: 4},
		{Topic: bus.EventsTopic, Partition: 0, Start: 4, End: 5},
		{Topic: bus.EventsTopic, Partition: 1, Start: 0, End: 2},
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
	if err := kafkaio.Commit(ctx, adm, "g", want[:2]); err != nil {
		t.Fatal(err)
	}
	ranges, err = kafkaio.PlanRanges(ctx, adm, "g", bus.EventsTopic, 0)
	if err != nil {
		t.Fatal(err)
	}
	want = []kafkaio.OffsetRange{
		{Topic: bus.EventsTopic, Partition: 0, Start: 4, End: 5},
		{Topic: bus.EventsTopic, Partition: 1, Start: 0, End: 2},
	}
	if !reflect.DeepEqual(ranges, want) {
		t.Fatalf("after commit: ranges %v, want %v", ranges, want)
	}
	if err := kafkaio.Commit(ctx, adm, "g", ranges); err != nil {
		t.Fatal(err)
	}
	if ranges, err = kafkaio.PlanRanges(ctx, adm, "g", bus.EventsTopic, 0); err != nil || len(ranges) != 0 {
		t.Fatalf("after committing everything: %v %v", ranges, err)
	}
}

func TestReadFnFailsOnMissingRecords(t *testing.T) {
	cfg, cl := broker(t)
	produce(t, cl, 0, 1)
	fn := &kafkaio.ReadFn{Brokers: cfg.Brokers, IdleTimeout: 500 * time.Millisecond}
	r := kafkaio.OffsetRange{Topic: bus.EventsTopic, Partition: 0, Start: 0, End: 3} // only offset 0 exists
	n := 0
	err := fn.ProcessElement(context.Background(), r, func(kafkaio.Record) { n++ })
	if err == nil || n != 1 {
		t.Fatalf("read %d records, err %v; want 1 record and an error for the missing ones", n, err)
	}
}
