package bus

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The child half of TestKilledBrokerLosesNothingAcked: start the broker on the given dir,
// produce with acks, report, then wait to be killed.
const crashChildEnv = "CITYPULSE_BUS_CRASH_CHILD_DIR"

const crashRecords = 300

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestKilledBrokerLosesNothingAcked")
	}
	e := start(t, testConfig(dir))
	cfg := testConfig(dir)
	cfg.Brokers = e.Addrs()
	cl, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range crashRecords {
		r := &kgo.Record{Topic: DLQTopic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("ACKED")
	time.Sleep(time.Minute) // killed before this ends
}

// TestKilledBrokerLosesNothingAcked kills (SIGKILL) a process running the embedded broker right
// after its records were acknowledged, without Close, and checks a new broker on the same data
// dir serves every one of them.
func TestKilledBrokerLosesNothingAcked(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	acked := false
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "ACKED" {
			acked = true
			break
		}
	}
	if !acked {
		t.Fatal("child ended without acknowledging its records")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	e := start(t, testConfig(dir))
	defer e.Close()
	cfg := testConfig(dir)
	cfg.Brokers = e.Addrs()
	cons, err := NewClient(cfg, kgo.ConsumeTopics(DLQTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[string]string{}
	for len(got) < crashRecords && ctx.Err() == nil {
		cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)] = string(r.Value) })
	}
	if len(got) != crashRecords {
		t.Fatalf("after kill -9 and restart: %d of %d acknowledged records", len(got), crashRecords)
	}
	for i := range crashRecords {
		if v := got[fmt.Sprintf("k%d", i)]; v != fmt.Sprintf("v%d", i) {
			t.Fatalf("record k%d = %q", i, v)
		}
	}
}
