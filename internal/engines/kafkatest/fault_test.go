//go:build linux

package kafkatest

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/twmb/franz-go/pkg/kadm"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/internal/loadsend"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// The load and the fault.
const (
	senders      = 4
	perBatch     = 50
	maxBatches   = 2000                  // per sender: bounds the run if something hangs
	pause        = 20 * time.Millisecond // between a sender's batches
	warmBatches  = 40                    // acknowledged batches before the SIGKILL
	downFor      = 10 * time.Second      // the killed node stays down at least this long
	afterBatches = 40                    // acknowledged batches after it is back in every ISR
	source       = "citypulse-app"       // the source of stacktest.WriteKey
)

// TestBrokerKilledUnderLoad sends SDK-like batches through the collector to a 3-node cluster
// (replication factor 3, min.insync.replicas 2, acks=all), SIGKILLs the broker leading partition
// 0 of the events topic mid-load, keeps sending, restarts it, waits until it is back in every
// ISR, sends some more, and runs the events pipeline: every event that got a 200 must be in
// dwd_events exactly once. It prints the collector's error rate and recovery time.
func TestBrokerKilledUnderLoad(t *testing.T) {
	c := startCluster(t) // skips unless CITYPULSE_TEST_KAFKA_CLUSTER asks for it
	k := testenv.KafkaAt(t, c.dir)
	s := stacktest.Start(t, stacktest.Options{Kafka: k, LogLevel: slog.LevelError})
	admCl := k.Client()
	adm := kadm.NewClient(admCl)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	readyCtx, readyCancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := describeTopicReady(readyCtx, adm, s.Bus.Topics().Events())
	readyCancel()
	if err != nil {
		t.Fatal(err)
	}
	if st.replicas != clusterNodes || st.minISR != "2" {
		t.Fatalf("%s: replication factor %d, min.insync.replicas %q; want %d and 2 (kafka.sh's cluster defaults)", s.Bus.Topics().Events(), st.replicas, st.minISR, clusterNodes)
	}

	l := newLoad()
	stop := make(chan struct{})
	stopLoad := sync.OnceFunc(func() { close(stop) })
	g, gctx := errgroup.WithContext(ctx)
	defer func() { stopLoad(); _ = g.Wait() }()
	client := &http.Client{Timeout: 20 * time.Second}
	eventTime := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	loadStart := time.Now()
	for i := range senders {
		snd := &loadsend.Sender{URL: s.URL, WriteKey: stacktest.WriteKey, Client: client, ID: i, IDPrefix: "kafka-fault",
			Users: 11, PerBatch: perBatch, Batches: maxBatches, Pause: pause, EventTime: eventTime}
		g.Go(func() error { return snd.Run(gctx, stop, l) })
	}
	waitFor(t, gctx, "warm-up batches", func() bool { return l.ackedBatches() >= warmBatches })

	// The fault: SIGKILL the leader of partition 0, mid-load.
	if st, err = describeTopic(ctx, adm, s.Bus.Topics().Events()); err != nil {
		t.Fatal(err)
	}
	victim, led := st.leaders[0], 0
	for _, ldr := range st.leaders {
		if ldr == victim {
			led++
		}
	}
	killedAt := time.Now()
	c.kill(victim)
	t.Logf("SIGKILL node %d (pid file %s/node%d/kafka.pid): leader of %d of %d partitions of %s; active controller: %v",
		victim, c.dir, victim, led, len(st.leaders), s.Bus.Topics().Events(), st.controller == victim)

	// Keep sending while it is down: at least downFor, and until a request sent after the kill
	// was answered 200.
	waitFor(t, gctx, "a 200 after the kill", func() bool {
		return time.Since(killedAt) >= downFor && !l.firstOKAfter(killedAt).IsZero()
	})
	restartAt := time.Now()
	c.restart()
	restarted := time.Now()
	waitFor(t, gctx, "the restarted node back in every ISR", func() bool {
		st, err := describeTopic(gctx, adm, s.Bus.Topics().Events())
		return err == nil && st.allInSync(victim)
	})
	inSync := time.Now()
	base := l.ackedBatches()
	waitFor(t, gctx, "batches after the recovery", func() bool { return l.ackedBatches() >= base+afterBatches })
	stopLoad()
	if err := g.Wait(); err != nil {
		t.Fatalf("senders: %v", err)
	}
	loadEnd := time.Now()

	whole, during := l.window(loadStart, loadEnd), l.window(killedAt, inSync)
	firstOK := l.firstOKAfter(killedAt)
	t.Logf("load: %d events in %d batches of %d from %d senders acknowledged in %s", len(l.acked), l.batches, perBatch, senders, loadEnd.Sub(loadStart).Round(time.Millisecond))
	t.Logf("collector, whole run: %s", whole)
	t.Logf("collector, from the SIGKILL until node %d was back in every ISR (%s): %s", victim, inSync.Sub(killedAt).Round(time.Millisecond), during)
	lastFail := "none failed"
	if !during.lastFailEnd.IsZero() {
		lastFail = during.lastFailEnd.Sub(killedAt).Round(time.Millisecond).String()
	}
	t.Logf("recovery: first 200 for a request sent after the SIGKILL came %s after it; last failed request ended %s after it; node %d down %s, restart to ready %s, back in every ISR %s after the restart began",
		firstOK.Sub(killedAt).Round(time.Millisecond), lastFail, victim, restartAt.Sub(killedAt).Round(time.Millisecond),
		restarted.Sub(restartAt).Round(time.Millisecond), inSync.Sub(restartAt).Round(time.Millisecond))

	// Exactly once in ClickHouse after the pipeline.
	var read, written, dups int64
	for turn := 0; ; turn++ {
		if turn == 20 {
			t.Fatal("the pipeline still had work after 20 turns")
		}
		res := s.RunOnce()
		if res.Idle() {
			break
		}
		read, written, dups = read+res.Read, written+res.Written, dups+res.Duplicates
	}
	t.Logf("pipeline: %d read, %d written, %d duplicates dropped (batches re-sent after a lost answer)", read, written, dups)
	checkExactlyOnce(ctx, t, s, l.acked)
}

// waitFor polls cond every 20 ms until it holds, failing the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkExactlyOnce compares dwd_events FINAL with the acknowledged message ids.
func checkExactlyOnce(ctx context.Context, t *testing.T, s *stacktest.Stack, acked map[string]bool) {
	t.Helper()
	if n := s.Count("SELECT count() FROM dwd_events FINAL"); n != uint64(len(acked)) {
		t.Errorf("dwd_events FINAL has %d rows, want %d (one per acknowledged event)", n, len(acked))
	}
	rows, err := s.Conn.Query(ctx, "SELECT message_id, count(), any(source) FROM dwd_events FINAL GROUP BY message_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var twice, foreign, missing []string
	for rows.Next() {
		var id, src string
		var n uint64
		if err := rows.Scan(&id, &n, &src); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		if n != 1 {
			twice = append(twice, id)
		}
		if !acked[id] || src != source {
			foreign = append(foreign, id+" ("+src+")")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(twice) > 0 || len(foreign) > 0 {
		t.Fatalf("dwd_events FINAL: %d acknowledged events missing (first: %v), %d stored more than once (%v), %d not acknowledged or from another source (%v)",
			len(missing), head(missing), len(twice), head(twice), len(foreign), head(foreign))
	}
	t.Logf("dwd_events FINAL: each of the %d acknowledged events exactly once", len(acked))
}

func head(s []string) []string { return s[:min(len(s), 5)] }
