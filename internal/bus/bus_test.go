package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func testLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:0"}
	cfg.DataDir = dir
	return cfg
}

func start(t *testing.T, cfg Config) *Embedded {
	t.Helper()
	e, err := StartEmbedded(cfg, testLog())
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	return e
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{name: "default", mod: func(*Config) {}},
		{name: "no brokers", mod: func(c *Config) { c.Brokers = nil }, wantErr: "kafka-brokers"},
		{name: "no port", mod: func(c *Config) { c.Brokers = []string{"localhost"} }, wantErr: "host:port"},
		{name: "bad port", mod: func(c *Config) { c.Brokers = []string{"localhost:99999"} }, wantErr: "port"},
		{name: "unspecified host embedded", mod: func(c *Config) { c.Brokers = []string{"0.0.0.0:19092"} }, wantErr: "concrete host"},
		{name: "unspecified host external ok", mod: func(c *Config) { c.Brokers = []string{"0.0.0.0:19092"}; c.Embedded = false }},
		{name: "zero partitions", mod: func(c *Config) { c.Partitions = 0 }, wantErr: "kafka-partitions"},
		{name: "too many partitions", mod: func(c *Config) { c.Partitions = MaxPartitions + 1 }, wantErr: "kafka-partitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestStartEmbeddedCreatesTopics: the embedded broker creates the core topics under the
// configured prefix, and only those.
func TestStartEmbeddedCreatesTopics(t *testing.T) {
	for _, prefix := range []string{"", "p1."} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			cfg := testConfig(filepath.Join(t.TempDir(), "nested", "kafka"))
			cfg.Partitions = 3
			cfg.TopicPrefix = prefix
			e := start(t, cfg)
			defer e.Close()

			cfg.Brokers = e.Addrs()
			cl, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			details, err := kadm.NewClient(cl).ListTopics(ctx)
			if err != nil {
				t.Fatalf("ListTopics: %v", err)
			}
			want := []string{prefix + DLQTopic, prefix + EventsTopic}
			if got := details.Names(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("topics %q, want %q", got, want)
			}
			for _, topic := range want {
				if got := len(details[topic].Partitions); got != 3 {
					t.Errorf("topic %s: %d partitions, want 3", topic, got)
				}
			}
			// Creating them again is fine.
			if err := EnsureTopics(ctx, cl, 3, append(cfg.Topics().Core(), "citypulse.test.extra.v1")...); err != nil {
				t.Fatalf("EnsureTopics again: %v", err)
			}
		})
	}
}

func TestRestartLosesNothing(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.SyncWrites = sync
			const n = 500
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			e := start(t, cfg)
			ccfg := cfg
			ccfg.Brokers = e.Addrs()
			prod, err := NewClient(ccfg, kgo.RequiredAcks(kgo.AllISRAcks()))
			if err != nil {
				t.Fatal(err)
			}
			var recs []*kgo.Record
			for i := range n {
				recs = append(recs, &kgo.Record{
					Topic: EventsTopic,
					Key:   fmt.Appendf(nil, "user-%d", i%37),
					Value: fmt.Appendf(nil, `{"i":%d}`, i),
				})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatalf("ProduceSync: %v", err)
			}
			prod.Close()
			e.Close()

			e2 := start(t, cfg)
			defer e2.Close()
			ccfg.Brokers = e2.Addrs()
			cons, err := NewClient(ccfg,
				kgo.ConsumeTopics(EventsTopic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			got := map[string]string{}
			for len(got) < n {
				fs := cons.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Fatalf("consumed %d of %d records before %v", len(got), n, err)
				}
				fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
				fs.EachRecord(func(r *kgo.Record) {
					got[string(r.Value)] = string(r.Key)
				})
			}
			if len(got) != n {
				t.Fatalf("got %d distinct records, want %d", len(got), n)
			}
			for i := range n {
				v := fmt.Sprintf(`{"i":%d}`, i)
				if k, ok := got[v]; !ok || k != fmt.Sprintf("user-%d", i%37) {
					t.Fatalf("record %s: key %q (present %v)", v, k, ok)
				}
			}
		})
	}
}
