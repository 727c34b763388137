package testenv

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseKafkaSetting(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("127.0.0.1:9092,127.0.0.1:9093\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir() // no bootstrap file: kafka.sh never started there
	tests := []struct {
		setting string
		brokers []string
		dir     string
		err     string
	}{
		{setting: "127.0.0.1:9092", brokers: []string{"127.0.0.1:9092"}},
		{setting: " 127.0.0.1:1, localhost:2 ,", brokers: []string{"127.0.0.1:1", "localhost:2"}},
		{setting: "[::1]:9092", brokers: []string{"[::1]:9092"}},
		{setting: dir, brokers: []string{"127.0.0.1:9092", "127.0.0.1:9093"}, dir: dir},
		{setting: empty, err: "kafka.sh start"},
		{setting: "127.0.0.1", err: "want host:port"},
		{setting: "127.0.0.1:0", err: "want host:port"},
		{setting: ":9092", err: "want host:port"},
		{setting: ",", err: "names no broker"},
	}
	for _, tt := range tests {
		brokers, gotDir, err := ParseKafkaSetting(tt.setting)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseKafkaSetting(%q) error %v, want one containing %q", tt.setting, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(brokers, tt.brokers) || gotDir != tt.dir {
			t.Errorf("ParseKafkaSetting(%q) = %v, %q, %v; want %v, %q", tt.setting, brokers, gotDir, err, tt.brokers, tt.dir)
		}
	}
}

// TestKafkaTopicsArePrivate runs on whichever broker $CITYPULSE_TEST_KAFKA picks: two tests'
// topics of the same base never meet, and a record round-trips through the test's own topic.
func TestKafkaTopicsArePrivate(t *testing.T) {
	var names []string
	for _, sub := range []string{"a", "b"} {
		t.Run(sub, func(t *testing.T) {
			k := Kafka(t)
			topic := k.CreateTopics(2, "citypulse.events.v1")[0]
			if !strings.HasPrefix(topic, "citypulse.events.v1.test_testkafkatopicsarepriva") {
				t.Errorf("topic %q: want the base, then the test's unique name", topic)
			}
			names = append(names, topic)
			cl := k.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(sub), Value: []byte("hello " + sub)}).FirstErr(); err != nil {
				t.Fatalf("produce to %s on %v: %v", topic, k.Bus.Brokers, err)
			}
			var got []string
			for len(got) == 0 && ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
			}
			if !reflect.DeepEqual(got, []string{"hello " + sub}) {
				t.Fatalf("read back %q from %s, want only this test's record", got, topic)
			}
			t.Logf("broker %v (real: %v): produced and read back on %s", k.Bus.Brokers, k.External(), topic)
		})
	}
	if len(names) == 2 && names[0] == names[1] {
		t.Errorf("both tests got topic %s", names[0])
	}
}

// TestPrefixedBus: the prefixed settings name the test's own core topics, which exist.
func TestPrefixedBus(t *testing.T) {
	k := Kafka(t)
	cfg := k.PrefixedBus()
	if cfg.TopicPrefix != k.ID()+"." || cfg.Topics().Events() != k.ID()+".citypulse.events.v1" {
		t.Fatalf("prefix %q, events topic %q: want the test's ID", cfg.TopicPrefix, cfg.Topics().Events())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := k.Client(kgo.ConsumeTopics(cfg.Topics().DLQ()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: cfg.Topics().DLQ(), Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", cfg.Topics().DLQ(), err)
	}
	var got int
	for got == 0 && ctx.Err() == nil {
		got += cl.PollFetches(ctx).NumRecords()
	}
	if got != 1 {
		t.Fatalf("read %d records from %s, want 1", got, cfg.Topics().DLQ())
	}
}
