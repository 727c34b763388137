package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
)

// KafkaEnv names the variable that picks the tests' Kafka broker. Unset, every test gets an
// embedded broker of its own (internal/bus, franz-go's kfake). Set, tests use the real broker it
// names, shared between them: a bootstrap list ("127.0.0.1:9092,127.0.0.1:9093") or the
// directory of a broker started by deploy/kafka/kafka.sh (its bootstrap file is read).
const KafkaEnv = "CITYPULSE_TEST_KAFKA"

// kafkaReadyTimeout bounds the wait for a configured real broker to answer a metadata request.
const kafkaReadyTimeout = 60 * time.Second

// KafkaBroker is the broker a test talks to. Bus reaches it (Embedded false: the broker is already
// running); topics made with Topic or CreateTopics are the test's own.
type KafkaBroker struct {
	// Bus holds the broker addresses and CityPulse's default partition count.
	Bus bus.Config
	// Dir is the deploy/kafka/kafka.sh directory of a real broker, when the setting named one.
	Dir string
	// Embedded is the test's own embedded broker; nil for a real one.
	Embedded *bus.Embedded

	t  testing.TB
	id string // unique per test: test_<name>_<hex>
}

// Kafka returns the broker for this test: the real one named by $CITYPULSE_TEST_KAFKA, else a
// fresh embedded broker persisting to a temporary directory, closed when the test ends.
func Kafka(t testing.TB) *KafkaBroker {
	t.Helper()
	if k, ok := RealKafka(t); ok {
		return k
	}
	return EmbeddedKafka(t)
}

// EmbeddedKafka returns a fresh embedded broker of the test's own, persisting to a temporary
// directory and closed when the test ends, whatever $CITYPULSE_TEST_KAFKA says: for tests that
// stop, restart or script the broker (KafkaBroker.Embedded), which a shared real one must not be.
func EmbeddedKafka(t testing.TB) *KafkaBroker {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.Brokers = []string{"127.0.0.1:0"}
	cfg.DataDir = t.TempDir()
	emb, err := bus.StartEmbedded(cfg, nil)
	if err != nil {
		t.Fatalf("embedded kafka: %v", err)
	}
	t.Cleanup(emb.Close)
	cfg.Brokers, cfg.Embedded, cfg.DataDir = emb.Addrs(), false, ""
	return &KafkaBroker{Bus: cfg, Embedded: emb, t: t, id: UniqueName(t.Name())}
}

// RealKafka returns the real broker named by $CITYPULSE_TEST_KAFKA, or false when the variable
// is unset. A broker that is named but does not answer fails the test.
func RealKafka(t testing.TB) (*KafkaBroker, bool) {
	t.Helper()
	setting := strings.TrimSpace(os.Getenv(KafkaEnv))
	if setting == "" {
		return nil, false
	}
	return KafkaAt(t, setting), true
}

// KafkaAt connects to the real broker named by setting (a bootstrap list or a kafka.sh
// directory) and waits until it answers a metadata request, failing the test if it does not.
func KafkaAt(t testing.TB, setting string) *KafkaBroker {
	t.Helper()
	brokers, dir, err := ParseKafkaSetting(setting)
	if err != nil {
		t.Fatalf("%s: %v", KafkaEnv, err)
	}
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.Embedded, cfg.DataDir = brokers, false, ""
	k := &KafkaBroker{Bus: cfg, Dir: dir, t: t, id: UniqueName(t.Name())}
	if err := waitKafka(cfg, kafkaReadyTimeout); err != nil {
		t.Fatalf("real kafka %v (from %q): %v", brokers, setting, err)
	}
	return k
}

// ParseKafkaSetting reads a broker setting: a directory (its bootstrap file, as kafka.sh writes
// it, gives the brokers) or a comma-separated host:port list. dir is "" for a list.
func ParseKafkaSetting(setting string) (brokers []string, dir string, err error) {
	setting = strings.TrimSpace(setting)
	if st, serr := os.Stat(setting); serr == nil && st.IsDir() {
		b, rerr := os.ReadFile(filepath.Join(setting, "bootstrap"))
		if rerr != nil {
			return nil, "", fmt.Errorf("kafka directory %s: %w (start it with deploy/kafka/kafka.sh start %s)", setting, rerr, setting)
		}
		dir, setting = setting, strings.TrimSpace(string(b))
	}
	for _, b := range strings.Split(setting, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		host, port, serr := net.SplitHostPort(b)
		if serr != nil || host == "" || port == "" || port == "0" {
			return nil, "", fmt.Errorf("broker %q: want host:port with a port, or a kafka.sh directory", b)
		}
		brokers = append(brokers, b)
	}
	if len(brokers) == 0 {
		return nil, "", fmt.Errorf("%q names no broker: want host:port[,host:port...] or a kafka.sh directory", setting)
	}
	return brokers, dir, nil
}

// waitKafka polls the brokers until a metadata request lists at least one broker and a group
// coordinator answers: a fresh Kafka creates its offsets topic on the first coordinator lookup
// and answers COORDINATOR_NOT_AVAILABLE meanwhile, which a test's first offset fetch must not
// meet.
func waitKafka(cfg bus.Config, timeout time.Duration) error {
	cl, err := bus.NewClient(cfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	adm := kadm.NewClient(cl)
	for {
		m, err := adm.BrokerMetadata(ctx)
		if err == nil && len(m.Brokers) == 0 {
			err = errors.New("metadata lists no broker")
		}
		if err == nil {
			err = adm.FindGroupCoordinators(ctx, "citypulse-testenv-probe").Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, errors.Join(err, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// External reports whether this is a real broker, shared with other tests.
func (k *KafkaBroker) External() bool { return k.Embedded == nil }

// ID is unique to the test: test_<name>_<random hex>, usable in topic and group names.
func (k *KafkaBroker) ID() string { return k.id }

// Topic returns base suffixed with the test's ID ("citypulse.events.v1.test_x_1a2b3c4d"): a topic
// name no other test uses. It creates nothing.
func (k *KafkaBroker) Topic(base string) string { return base + "." + k.id }

// Client returns a client of the broker with opts, closed when the test ends.
func (k *KafkaBroker) Client(opts ...kgo.Opt) *kgo.Client {
	k.t.Helper()
	cl, err := bus.NewClient(k.Bus, opts...)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(cl.Close)
	return cl
}

// CreateTopics creates the test's own topics Topic(base) for each base, with partitions
// partitions and the broker's default replication factor, and returns their names. On a real
// broker they are deleted when the test ends, unless it failed, and so are the consumer groups
// whose names contain ID().
func (k *KafkaBroker) CreateTopics(partitions int, bases ...string) []string {
	k.t.Helper()
	names := make([]string, len(bases))
	for i, b := range bases {
		names[i] = k.Topic(b)
	}
	cl := k.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cl, partitions, names...); err != nil {
		k.t.Fatal(err)
	}
	if k.External() {
		k.t.Cleanup(func() {
			if k.t.Failed() {
				k.t.Logf("test failed: keeping topics %v on %v", names, k.Bus.Brokers)
				return
			}
			k.deleteTopics(names)
			k.deleteGroups()
		})
	}
	return names
}

func (k *KafkaBroker) deleteTopics(names []string) {
	cl, err := bus.NewClient(k.Bus)
	if err != nil {
		k.t.Errorf("delete topics %v: %v", names, err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resps, err := kadm.NewClient(cl).DeleteTopics(ctx, names...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		k.t.Errorf("delete topics %v: %v", names, err)
	}
}
