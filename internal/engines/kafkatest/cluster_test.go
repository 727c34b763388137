//go:build linux

package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ClusterEnv names the variable that runs the cluster tests: "start" (a cluster of their own in
// a temporary directory) or the kafka.sh directory of a running 3-node cluster.
const ClusterEnv = "CITYPULSE_TEST_KAFKA_CLUSTER"

// clusterNodes is the size of the fault-test cluster.
const clusterNodes = 3

// cluster is a 3-node Kafka cluster managed by deploy/kafka/kafka.sh: nodes are numbered from
// 1, equal to their broker ids, and each one's PID is in DIR/node<N>/kafka.pid.
type cluster struct {
	t      *testing.T
	script string
	dir    string
}

// startCluster returns the cluster that $CITYPULSE_TEST_KAFKA_CLUSTER asks for, all nodes up,
// or skips the test when the variable is unset.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	setting := strings.TrimSpace(os.Getenv(ClusterEnv))
	if setting == "" {
		t.Skipf("no Kafka cluster asked for: set %s=start (make test-engines) to run the broker fault test", ClusterEnv)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "deploy", "kafka", "kafka.sh"))
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, script: script, dir: setting}
	if setting == "start" {
		c.dir = t.TempDir()
		// Registered after TempDir, so it runs before the directory is removed.
		t.Cleanup(func() {
			if out, err := c.run(2*time.Minute, "stop", c.dir); err != nil {
				t.Errorf("stop the cluster: %v\n%s", err, out)
			}
		})
	} else if env, err := os.ReadFile(filepath.Join(c.dir, "cluster.env")); err != nil || !bytes.Contains(env, []byte(fmt.Sprintf("NODES=%d\n", clusterNodes))) {
		t.Fatalf("%s=%s: want the directory of a %d-node cluster started by %s start DIR %d (%v)", ClusterEnv, setting, clusterNodes, script, clusterNodes, err)
	}
	started := time.Now()
	// start is idempotent: on a running cluster it only waits until every node is ready.
	if out, err := c.run(5*time.Minute, "start", c.dir, strconv.Itoa(clusterNodes)); err != nil {
		t.Fatalf("start the %d-node cluster in %s: %v\n%s", clusterNodes, c.dir, err, out)
	}
	t.Logf("cluster: %d nodes ready in %s (%s)", clusterNodes, time.Since(started).Round(time.Millisecond), c.dir)
	return c
}

// run runs kafka.sh; a test that dies leaves no node behind (KAFKA_WATCH_PID).
func (c *cluster) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.script, args...)
	cmd.Env = append(os.Environ(), "KAFKA_WATCH_PID="+strconv.Itoa(os.Getpid()))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pid returns the process id of a running node.
func (c *cluster) pid(node int32) int {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node%d", node), "kafka.pid"))
	if err != nil {
		c.t.Fatalf("node %d: %v", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		c.t.Fatalf("node %d: bad pid file %q", node, b)
	}
	return pid
}

// kill sends SIGKILL to a node's JVM and waits until the process is gone.
func (c *cluster) kill(node int32) {
	c.t.Helper()
	pid := c.pid(node)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		c.t.Fatalf("SIGKILL node %d (pid %d): %v", node, pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d (pid %d) still alive 10 s after SIGKILL", node, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// restart starts the nodes that are not running (kafka.sh start is idempotent) and waits until
// every node answers metadata.
func (c *cluster) restart() {
	c.t.Helper()
	if out, err := c.run(3*time.Minute, "start", c.dir); err != nil {
		c.t.Fatalf("restart: %v\n%s", err, out)
	}
}

// topicState is what the fault test needs to know of a topic: partition leaders, ISRs, the
// replication factor, min.insync.replicas, and the active controller.
type topicState struct {
	leaders    map[int32]int32
	isr        map[int32][]int32
	replicas   int
	minISR     string
	controller int32
}

// describeTopicReady is describeTopic once the topic is known to the broker that answers: a
// topic just created reaches the other brokers' metadata a moment later, so a missing topic or
// partition is retried until ctx ends.
func describeTopicReady(ctx context.Context, adm *kadm.Client, topic string) (topicState, error) {
	for {
		st, err := describeTopic(ctx, adm, topic)
		if err == nil && len(st.leaders) > 0 {
			return st, nil
		}
		if err == nil {
			err = fmt.Errorf("metadata of %s: no partitions yet", topic)
		}
		select {
		case <-ctx.Done():
			return st, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func describeTopic(ctx context.Context, adm *kadm.Client, topic string) (topicState, error) {
	m, err := adm.Metadata(ctx, topic)
	if err != nil {
		return topicState{}, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	td, ok := m.Topics[topic]
	if !ok || td.Err != nil {
		return topicState{}, fmt.Errorf("metadata of %s: %v", topic, errors.Join(td.Err, errors.New("topic missing")))
	}
	st := topicState{leaders: map[int32]int32{}, isr: map[int32][]int32{}, replicas: -1, controller: m.Controller}
	for p, pd := range td.Partitions {
		st.leaders[p] = pd.Leader
		st.isr[p] = slices.Sorted(slices.Values(pd.ISR))
		if st.replicas < 0 || len(pd.Replicas) < st.replicas {
			st.replicas = len(pd.Replicas)
		}
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return st, fmt.Errorf("configs of %s: %w", topic, err)
	}
	rc, err := cfgs.On(topic, nil)
	if err != nil || rc.Err != nil {
		return st, fmt.Errorf("configs of %s: %w", topic, errors.Join(err, rc.Err))
	}
	for _, kv := range rc.Configs {
		if kv.Key == "min.insync.replicas" {
			st.minISR = kv.MaybeValue()
		}
	}
	return st, nil
}

// allInSync reports whether node is in the ISR of every partition.
func (st topicState) allInSync(node int32) bool {
	for _, isr := range st.isr {
		if !slices.Contains(isr, node) {
			return false
		}
	}
	return len(st.isr) > 0
}
