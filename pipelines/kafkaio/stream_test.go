package kafkaio_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

func init() {
	register.DoFn2x1[context.Context, kafkaio.Message, error](&logFn{})
}

// logFn appends "partition offset from" per message to the file at Path and, at the end of each
// bundle, reports the bundle's spans to a Committer: a minimal sink.
type logFn struct {
	Path    string
	Brokers []string
	Group   string

	f    *os.File
	w    *bufio.Writer
	cl   *kgo.Client
	com  *kafkaio.Committer
	prog kafkaio.Progress
}

func (f *logFn) Setup() error {
	file, err := os.OpenFile(f.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.Brokers...))
	if err != nil {
		return err
	}
	f.f, f.w, f.cl, f.com = file, bufio.NewWriter(file), cl, kafkaio.NewCommitter(kadm.NewClient(cl), f.Group)
	return nil
}

func (f *logFn) ProcessElement(_ context.Context, m kafkaio.Message) error {
	f.prog.Add(m)
	_, err := fmt.Fprintf(f.w, "%d %d %d\n", m.Record.Partition, m.Record.Offset, m.From)
	return err
}

func (f *logFn) FinishBundle(ctx context.Context) error {
	if err := f.w.Flush(); err != nil {
		return err
	}
	if err := f.f.Sync(); err != nil {
		return err
	}
	_ = f.com.Finished(ctx, f.prog.Take()) // a failed commit is retried with the next bundle
	return nil
}

func (f *logFn) Teardown() {
	if f.f != nil {
		f.f.Close()
		f.cl.Close()
	}
}

type logLine struct{ partition, offset, from int64 }

func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l logLine
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &l.partition, &l.offset, &l.from); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// streamJob runs ReadStream → logFn until stop is called.
type streamJob struct {
	cancel context.CancelFunc
	done   chan error
}

func startStream(t *testing.T, cfg bus.Config, adm *kadm.Client, topic, group, path string) *streamJob {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	starts, err := kafkaio.StreamStarts(ctx, adm, group, topic)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	msgs := kafkaio.ReadStream(s, kafkaio.StreamOptions{Brokers: cfg.Brokers}, starts)
	beam.ParDo0(s, &logFn{Path: path, Brokers: cfg.Brokers, Group: group}, msgs)
	j := &streamJob{cancel: cancel, done: make(chan error, 1)}
	go func() {
		_, err := beam.Run(ctx, "prism", p)
		j.done <- err
	}()
	return j
}

func (j *streamJob) stop(t *testing.T) {
	t.Helper()
	j.cancel()
	select {
	case <-j.done:
	case <-time.After(30 * time.Second):
		t.Fatal("streaming job did not stop within 30 s of its context's end")
	}
}

// waitFor polls until every offset below want[p] of each partition is in the log.
func waitFor(t *testing.T, path string, want map[int64]int64) []logLine {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := readLog(t, path)
		seen := map[[2]int64]bool{}
		for _, l := range lines {
			seen[[2]int64{l.partition, l.offset}] = true
		}
		missing := 0
		for p, n := range want {
			for o := int64(0); o < n; o++ {
				if !seen[[2]int64{p, o}] {
					missing++
				}
			}
		}
		if missing == 0 {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still unread after 60 s", missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadStreamRestart streams two partitions while records keep coming, stops the job, and
// starts it again from the committed offsets: every offset is read, the spans of each partition
// chain without gaps, and only records after the committed offset are read twice.
func TestReadStreamRestart(t *testing.T) {
	b := broker(t)
	cfg, cl, topic, group := b.cfg, b.cl, b.topic, b.group("stream-test")
	adm := kadm.NewClient(cl)
	path := filepath.Join(t.TempDir(), "log")
	produce(t, cl, topic, 0, 300)
	produce(t, cl, topic, 1, 200)

	job := startStream(t, cfg, adm, topic, group, path)
	waitFor(t, path, map[int64]int64{0: 300, 1: 200})
	// Streaming: records produced while the job runs arrive without a new run.
	produce(t, cl, topic, 0, 100)
	produce(t, cl, topic, 1, 100)
	waitFor(t, path, map[int64]int64{0: 400, 1: 300})
	job.stop(t)

	committed := map[int32]int64{}
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) { committed[o.Partition] = o.At })
	if committed[0] > 400 || committed[1] > 300 || committed[0]+committed[1] == 0 {
		t.Fatalf("committed %v: want progress, never past what was read (400, 300)", committed)
	}
	before := len(readLog(t, path))

	produce(t, cl, topic, 0, 50)
	job = startStream(t, cfg, adm, topic, group, path)
	lines := waitFor(t, path, map[int64]int64{0: 450, 1: 300})
	job.stop(t)

	count := map[[2]int64]int{}
	next := map[int64]int64{}
	for i, l := range lines {
		k := [2]int64{l.partition, l.offset}
		count[k]++
		if count[k] > 1 && l.offset < committed[int32(l.partition)] {
			t.Errorf("offset %d of partition %d read again, but %d was committed", l.offset, l.partition, committed[int32(l.partition)])
		}
		if i == before {
			next = map[int64]int64{} // the second run starts its chains afresh
		}
		if want, ok := next[l.partition]; ok && l.from != want {
			t.Errorf("partition %d offset %d: span starts at %d, want %d (chained to the previous message)", l.partition, l.offset, l.from, want)
		}
		next[l.partition] = l.offset + 1
	}
	t.Logf("read %d messages for 750 records; committed at the stop: %v", len(lines), committed)
}

// TestCommitterWaitsForGaps reports spans out of order: nothing is committed past a gap.
func TestCommitterWaitsForGaps(t *testing.T) {
	b := broker(t)
	cl, topic, group := b.cl, b.topic, b.group("g-commit")
	adm := kadm.NewClient(cl)
	produce(t, cl, topic, 0, 30)
	ctx := context.Background()
	sp := func(from, to int64) kafkaio.Span {
		return kafkaio.Span{Topic: topic, Partition: 0, From: from, To: to}
	}
	tests := []struct {
		spans []kafkaio.Span
		want  int64 // committed offset after the call; 0 = nothing committed
	}{
		{[]kafkaio.Span{sp(10, 20)}, 0}, // does not start at the log start (0)
		{[]kafkaio.Span{sp(0, 5)}, 5},
		{[]kafkaio.Span{sp(5, 10)}, 20}, // closes the gap: 10..20 was waiting
		{[]kafkaio.Span{sp(25, 30), sp(20, 25)}, 30},
		{[]kafkaio.Span{sp(3, 8)}, 30}, // a re-read below the committed offset changes nothing
	}
	c := kafkaio.NewCommitter(adm, group)
	for i, tt := range tests {
		if err := c.Finished(ctx, tt.spans); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		offs, err := adm.FetchOffsets(ctx, group)
		var got int64
		if err == nil {
			if o, ok := offs.Lookup(topic, 0); ok {
				got = o.At
			}
		}
		if got != tt.want {
			t.Fatalf("call %d (%v): committed %d, want %d", i, tt.spans, got, tt.want)
		}
	}
}

func TestProgressSpans(t *testing.T) {
	msg := func(p int32, from, off int64) kafkaio.Message {
		return kafkaio.Message{From: from, Record: kafkaio.Record{Topic: "t", Partition: p, Offset: off}}
	}
	var pr kafkaio.Progress
	for _, m := range []kafkaio.Message{msg(1, 7, 9), msg(0, 0, 0), msg(1, 10, 10), msg(0, 1, 4)} {
		pr.Add(m)
	}
	want := []kafkaio.Span{{Topic: "t", Partition: 0, From: 0, To: 5}, {Topic: "t", Partition: 1, From: 7, To: 11}}
	if got := pr.Take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("spans %v, want %v", got, want)
	}
	if got := pr.Take(); len(got) != 0 {
		t.Fatalf("second Take %v, want nothing", got)
	}
}

func init() {
	register.Function2x0(keyOf)
	register.DoFn3x1[beam.Window, string, int, error](&windowLogFn{})
}

func keyOf(m kafkaio.Message, emit func(string, int)) { emit("all", 1) }

// windowLogFn appends "window-end count" per fired window to the file at Path.
type windowLogFn struct{ Path string }

func (f *windowLogFn) ProcessElement(w beam.Window, _ string, n int) error {
	file, err := os.OpenFile(f.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()
	_, err = fmt.Fprintf(file, "%d %d\n", w.MaxTimestamp().ToTime().Add(time.Millisecond).Unix(), n)
	return err
}

// TestReadStreamWatermark counts records per event-time minute in fixed windows: the windows
// fire while the job runs, which they only do once the source's watermark passes their end
// (records carry past timestamps; a caught-up partition moves the watermark to now − 1 s).
func TestReadStreamWatermark(t *testing.T) {
	b := broker(t)
	cfg, cl, topic := b.cfg, b.cl, b.topic
	adm := kadm.NewClient(cl)
	base := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	want := map[int64]int{}
	for i := 0; i < 90; i++ {
		ts := base.Add(time.Duration(i) * 4 * time.Second) // 15 per minute over 6 minutes
		r := &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte("x"), Timestamp: ts}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		want[ts.Truncate(time.Minute).Add(time.Minute).Unix()]++
	}
	path := filepath.Join(t.TempDir(), "windows")
	starts, err := kafkaio.StreamStarts(context.Background(), adm, b.group("wm"), topic)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, s := beam.NewPipelineWithRoot()
	msgs := kafkaio.ReadStream(s, kafkaio.StreamOptions{Brokers: cfg.Brokers, OutOfOrder: time.Second}, starts)
	windowed := beam.WindowInto(s, window.NewFixedWindows(time.Minute), beam.ParDo(s, keyOf, msgs))
	beam.ParDo0(s, &windowLogFn{Path: path}, stats.SumPerKey(s, windowed))
	done := make(chan error, 1)
	go func() { _, err := beam.Run(ctx, "prism", p); done <- err }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		got := map[int64]int{}
		b, _ := os.ReadFile(path)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var end int64
			var n int
			if _, err := fmt.Sscanf(line, "%d %d", &end, &n); err == nil {
				got[end] += n
			}
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("windows fired: %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadStreamSurvivesBrokerRestart stops the broker under a running job and starts it again
// on the same port and data: the job keeps running (Kafka errors are retried inside the DoFn)
// and reads what is produced after the restart. It needs a broker of its own to restart, so it
// runs on the embedded one whatever $CITYPULSE_TEST_KAFKA says.
func TestReadStreamSurvivesBrokerRestart(t *testing.T) {
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.DataDir, cfg.Partitions = []string{"127.0.0.1:0"}, t.TempDir(), 2
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := bus.StartEmbedded(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Brokers = emb.Addrs()
	defer func() { emb.Close() }()
	newClient := func() *kgo.Client {
		cl, err := bus.NewClient(cfg, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	cl := newClient()
	path := filepath.Join(t.TempDir(), "log")
	produce(t, cl, bus.EventsTopic, 0, 20)
	produce(t, cl, bus.EventsTopic, 1, 20)
	job := startStream(t, cfg, kadm.NewClient(cl), bus.EventsTopic, "restart", path)
	waitFor(t, path, map[int64]int64{0: 20, 1: 20})
	cl.Close()

	emb.Close()
	time.Sleep(2 * time.Second) // the readers hit connection errors meanwhile
	if emb, err = bus.StartEmbedded(cfg, log); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-job.done:
		t.Fatalf("the job ended while the broker was down: %v", err)
	default:
	}
	cl = newClient()
	defer cl.Close()
	produce(t, cl, bus.EventsTopic, 0, 10)
	produce(t, cl, bus.EventsTopic, 1, 10)
	waitFor(t, path, map[int64]int64{0: 30, 1: 30})
	job.stop(t)
}
