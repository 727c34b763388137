//go:build linux

package chaos

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/loadsend"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// The load: senders × batches × events per batch.
const (
	senders   = 4
	batches   = 40
	perBatch  = 50
	writeKey  = "chaos-key"
	source    = "chaos-app"
	killAfter = senders * batches / 3 // acknowledged batches before the SIGKILL
)

// TestCollectorKilledMidLoad runs the real collector binary against the embedded broker, kills
// it with SIGKILL while SDK-like senders are sending, restarts it on the same port, lets the
// senders finish, and runs the events pipeline. Every event that got a 200 must be in the events
// topic at least once and in dwd_events exactly once.
func TestCollectorKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the citypulse binary and runs a minute of load")
	}
	whCfg, conn := testenv.Warehouse(t) // skips (or fails when CI=true) without ClickHouse
	built := time.Now()
	bin := buildCitypulse(t)
	t.Logf("built the citypulse binary in %s", time.Since(built).Round(time.Millisecond))
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	busCfg := bus.DefaultConfig()
	busCfg.Brokers = []string{"127.0.0.1:0"}
	busCfg.DataDir = t.TempDir()
	emb, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	busCfg.Brokers = emb.Addrs()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	listen := freeAddr(t)
	col := newCollectorProc(t, bin, busCfg.Brokers[0], listen, writeKey+"="+source)
	col.start(ctx)

	// Load, with the kill and the restart in the middle of it.
	l := newLoad()
	g, gctx := errgroup.WithContext(ctx)
	client := &http.Client{Timeout: 5 * time.Second}
	eventTime := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i := range senders {
		s := &loadsend.Sender{URL: "http://" + listen, WriteKey: writeKey, Client: client, ID: i, IDPrefix: "chaos",
			Users: 7, PerBatch: perBatch, Batches: batches, EventTime: eventTime}
		g.Go(func() error { return s.Run(gctx, nil, l) })
	}
	for l.ackedBatches() < killAfter && gctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	killedAt := time.Now()
	l.markKilled(killedAt)
	col.kill()
	time.Sleep(300 * time.Millisecond) // the collector stays down a while: senders meet refused connections
	col.start(ctx)
	restartedAt := time.Now()
	if err := g.Wait(); err != nil {
		t.Fatalf("senders: %v", err)
	}
	if err := col.stop(); err != nil {
		t.Errorf("collector stop: %v", err)
	}
	t.Logf("load: %d batches of %d events from %d senders acknowledged; %d batches needed a retry", l.batches, perBatch, senders, l.retried)
	t.Logf("kill: %d failed attempts after the SIGKILL (by kind, whole run: %v); collector restarted %s after the kill, first 200 after the kill came %s after it",
		l.failedAfterKill, l.failures, restartedAt.Sub(killedAt).Round(time.Millisecond), l.recoveredAt.Sub(killedAt).Round(time.Millisecond))
	if want := senders * batches * perBatch; len(l.acked) != want {
		t.Fatalf("%d events acknowledged, want %d", len(l.acked), want)
	}
	if l.recoveredAt.IsZero() {
		t.Errorf("no batch sent after the kill was acknowledged: the kill came too late to be mid-load")
	}

	// At least once in Kafka: every acknowledged event is in the topic; duplicates are allowed.
	inTopic := readEventIDs(t, busCfg)
	var missing, dups int
	for id := range l.acked {
		switch n := inTopic[id]; {
		case n == 0:
			missing++
		case n > 1:
			dups += n - 1
		}
	}
	for id := range inTopic {
		if !l.acked[id] {
			t.Errorf("topic has event %s that no sender sent", id)
		}
	}
	t.Logf("events topic: %d distinct acknowledged events, %d duplicate records (re-sent batches whose 200 the kill swallowed)", len(inTopic), dups)
	if missing > 0 {
		t.Fatalf("%d acknowledged events are missing from %s: at-least-once broken", missing, bus.EventsTopic)
	}

	// Exactly once in ClickHouse after the pipeline.
	runner, err := pipelines.NewRunner(pipelines.DefaultConfig(), busCfg, whCfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	var read, written, duplicates int64
	for turn := 0; ; turn++ {
		if turn == 10 {
			t.Fatal("the pipeline still had work after 10 turns")
		}
		res, err := runner.RunOnce(ctx)
		if err != nil {
			t.Fatalf("pipeline turn %d: %v", turn, err)
		}
		if res.Idle() {
			break
		}
		read, written, duplicates = read+res.Read, written+res.Written, duplicates+res.Duplicates
	}
	t.Logf("pipeline: %d read, %d written, %d duplicates dropped", read, written, duplicates)
	checkExactlyOnce(ctx, t, conn, l.acked)
}

// readEventIDs reads the whole events topic and counts each message id.
func readEventIDs(t *testing.T, busCfg bus.Config) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admCl, err := bus.NewClient(busCfg)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := kadm.NewClient(admCl).ListEndOffsets(ctx, bus.EventsTopic)
	admCl.Close()
	if err != nil || ends.Error() != nil {
		t.Fatalf("list end offsets: %v %v", err, ends.Error())
	}
	want := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			parts[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	ids := map[string]int{}
	if len(want) == 0 {
		return ids
	}
	cl, err := bus.NewClient(busCfg, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{bus.EventsTopic: parts}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for len(want) > 0 {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v (partitions left: %v)", bus.EventsTopic, ctx.Err(), want)
		}
		f.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch partition %d: %v", p, err) })
		f.EachRecord(func(r *kgo.Record) {
			var e event.Event
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Fatalf("record %d@%d is not an event: %v", r.Partition, r.Offset, err)
			}
			ids[e.MessageID]++
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return ids
}

// checkExactlyOnce compares dwd_events FINAL with the acknowledged message ids.
func checkExactlyOnce(ctx context.Context, t *testing.T, conn driver.Conn, acked map[string]bool) {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM dwd_events FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(acked)) {
		t.Errorf("dwd_events FINAL has %d rows, want %d (one per acknowledged event)", n, len(acked))
	}
	rows, err := conn.Query(ctx, "SELECT message_id, count(), any(source) FROM dwd_events FINAL GROUP BY message_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var twice, foreign []string
	for rows.Next() {
		var id, src string
		var c uint64
		if err := rows.Scan(&id, &c, &src); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		if c != 1 {
			twice = append(twice, id)
		}
		if !acked[id] || src != source {
			foreign = append(foreign, id+" ("+src+")")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for id := range acked {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(twice) > 0 || len(foreign) > 0 {
		t.Fatalf("dwd_events FINAL: %d acknowledged events missing (first: %v), %d stored more than once (%v), %d not sent or from another source (%v)",
			len(missing), head(missing), len(twice), head(twice), len(foreign), head(foreign))
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }
