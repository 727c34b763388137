package minute

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// The streaming sink writes in the background, with one writer per process and job (warehouse
// and consumer group), shared by every instance of the sink in the process.
//
// Why: a long FinishBundle stalls the whole job on Prism. The Beam Go harness (v2.77.0) holds a
// bundle's DataSource lock through FinishBundle; a progress request for that bundle waits for
// it while holding the harness's global monitoring lock (harness/monitoring.go, shortIDCache),
// so the final response of every other bundle waits as well, and Prism's stage.Execute spins on
// a core for each of those bundles (it polls their closed data channel until the response
// comes). With the ClickHouse writes in FinishBundle, half the job's CPU went into that spin.
// Now FinishBundle hands its events and offsets to the writer and returns; back pressure waits
// in ProcessElement, which holds no harness lock.
//
// Nothing is lost or counted twice: offsets are committed only after the writer has written
// their events, a failed write fails the next bundle (and so the job, which restarts from the
// committed offsets), a writer whose job ended writes what it holds before it stops, and a new
// job's writer starts only after the previous one of the same key stopped, so one writer at a
// time checks for duplicates and inserts.

// maxPending is how many events the writer holds unwritten before ProcessElement waits.
const maxPending = 200_000

// commitRetry is how often an idle writer retries a commit that failed or waits for a gap.
const commitRetry = time.Second

type writerKey struct {
	warehouse string
	group     string
}

var writers = struct {
	sync.Mutex
	m map[writerKey]*sinkWriter
}{m: map[writerKey]*sinkWriter{}}

// sinkWriter writes what the sink instances of one job hand it, one batch at a time.
type sinkWriter struct {
	key  writerKey
	conn driver.Conn
	st   *store
	cl   *kgo.Client
	com  *kafkaio.Committer
	log  *slog.Logger

	mu       sync.Mutex
	cond     *sync.Cond
	rows     []detailRow
	spans    []kafkaio.Span
	inFlight int
	refs     int
	closing  bool
	tick     bool
	err      error
	// Counts of written batches not yet reported to a bundle's counters.
	written, duplicates, newUsers int64

	done chan struct{}
}

// acquireWriter returns the running writer of opt's job, or starts one, after the previous
// writer of the same key (a failed or cancelled run of the job) has stopped. Each call must be
// paired with one release.
func acquireWriter(ctx context.Context, opt Options, log *slog.Logger) (*sinkWriter, error) {
	key := writerKey{warehouse: fmt.Sprintf("%+v", opt.Warehouse), group: opt.Group}
	for {
		writers.Lock()
		w := writers.m[key]
		if w == nil {
			w, err := startWriter(ctx, key, opt, log)
			if err == nil {
				writers.m[key] = w
			}
			writers.Unlock()
			return w, err
		}
		w.mu.Lock()
		if !w.closing {
			w.refs++
			w.mu.Unlock()
			writers.Unlock()
			return w, nil
		}
		w.mu.Unlock()
		writers.Unlock()
		select {
		case <-w.done: // it removed itself
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func startWriter(ctx context.Context, key writerKey, opt Options, log *slog.Logger) (*sinkWriter, error) {
	conn, st, err := openStore(ctx, opt.Warehouse)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(opt.Brokers...))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("minute sink: kafka client: %w", err)
	}
	w := &sinkWriter{key: key, conn: conn, st: st, cl: cl, com: kafkaio.NewCommitter(kadm.NewClient(cl), opt.Group),
		log: log, refs: 1, done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.loop()
	go w.ticker()
	return w, nil
}

// release gives up one reference; the last one makes the writer write what it holds and stop.
func (w *sinkWriter) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs--; w.refs == 0 {
		w.closing = true
		w.cond.Broadcast()
	}
}

// submit hands rows and spans to the writer; it returns the error of a failed write.
func (w *sinkWriter) submit(rows []detailRow, spans []kafkaio.Span) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closing { // never: every instance holds a reference until it is done
		return fmt.Errorf("minute sink: the writer of group %s has stopped", w.key.group)
	}
	w.rows = append(w.rows, rows...)
	w.spans = append(w.spans, spans...)
	w.cond.Broadcast()
	return nil
}

// waitRoom blocks while the writer holds maxPending events or more, until ctx ends; it returns
// the error of a failed write.
func (w *sinkWriter) waitRoom(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.rows)+w.inFlight >= maxPending && w.err == nil && ctx.Err() == nil {
		w.cond.Wait()
	}
	return w.err
}

// counts returns the counts of the batches written since the last call.
func (w *sinkWriter) counts() (written, duplicates, newUsers int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	written, duplicates, newUsers = w.written, w.duplicates, w.newUsers
	w.written, w.duplicates, w.newUsers = 0, 0, 0
	return
}

func (w *sinkWriter) ticker() {
	t := time.NewTicker(commitRetry)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			w.mu.Lock()
			w.tick = true
			w.cond.Broadcast()
			w.mu.Unlock()
		}
	}
}

func (w *sinkWriter) loop() {
	// The writer's own context: a job's end must not cut off the writes of what it handed over.
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		w.cl.Close()
		_ = w.conn.Close()
		writers.Lock()
		if writers.m[w.key] == w {
			delete(writers.m, w.key)
		}
		writers.Unlock()
		close(w.done)
	}()
	for {
		w.mu.Lock()
		for len(w.rows) == 0 && len(w.spans) == 0 && !w.closing && !w.tick {
			w.cond.Wait()
		}
		if len(w.rows) == 0 && len(w.spans) == 0 {
			closing := w.closing
			w.tick = false
			w.mu.Unlock()
			if err := w.com.Finished(ctx, nil); err != nil {
				w.log.Warn("commit of the minute pipeline's offsets failed; will retry", "group", w.key.group, "err", err)
			}
			if closing {
				return
			}
			continue
		}
		rows, spans := w.rows, w.spans
		w.rows, w.spans, w.inFlight = nil, nil, len(rows)
		w.mu.Unlock()

		written, newUsers, err := w.write(ctx, rows, spans)

		w.mu.Lock()
		w.inFlight = 0
		w.written += int64(written)
		w.duplicates += int64(len(rows) - written)
		w.newUsers += int64(newUsers)
		if err != nil {
			w.err, w.closing = err, true
		}
		w.cond.Broadcast()
		w.mu.Unlock()
		if err != nil {
			w.log.Error("minute sink write failed; the job fails and restarts from the committed offsets", "err", err)
			return
		}
	}
}

// write writes one batch (new events, first-seen users) and then commits its spans.
func (w *sinkWriter) write(ctx context.Context, rows []detailRow, spans []kafkaio.Span) (written, newUsers int, err error) {
	if written, newUsers, err = w.st.write(ctx, rows); err != nil {
		return written, 0, err
	}
	if len(spans) > 0 {
		if err := w.com.Finished(ctx, spans); err != nil {
			// Written already; the commit is retried with the next batch or tick.
			w.log.Warn("commit of the minute pipeline's offsets failed; will retry", "group", w.key.group, "err", err)
		}
	}
	return written, newUsers, nil
}

// waitWriterStopped waits until no writer of opt's job runs (a job's writer stops once every
// sink instance released it and it wrote what it held), or until ctx ends.
func waitWriterStopped(ctx context.Context, opt Options) {
	key := writerKey{warehouse: fmt.Sprintf("%+v", opt.Warehouse), group: opt.Group}
	writers.Lock()
	w := writers.m[key]
	writers.Unlock()
	if w == nil {
		return
	}
	select {
	case <-w.done:
	case <-ctx.Done():
	}
}
