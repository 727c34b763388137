package cleaning

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"golang.org/x/sync/errgroup"

	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

// rowBatch is one pipeline element: valid rows of consecutive records.
type rowBatch struct{ Rows []Cleaned }

// quarantineBatch is one pipeline element: quarantine rows of consecutive records.
type quarantineBatch struct{ Rows []Quarantined }

// defaultBatchRecords is how many records one element carries: large enough that the per-element
// costs of the runner vanish, small enough that a few batches in flight per core stay a few MB.
const defaultBatchRecords = 1024

// cleanRangeFn reads an offset range of the feed topic and cleans its records: valid rows to load,
// valid rows to stage (by their route), and quarantine rows, each emitted in batches in offset
// order. The records are read on one goroutine (kafkaio.ReadFn) and cleaned on Workers others
// while the DoFn's own goroutine emits the batches cleaned before, so reading, cleaning and
// writing (the sinks run downstream in the same bundle) overlap.
type cleanRangeFn struct {
	Brokers         []string
	Dataset         string
	HashKey         string
	EncryptionKey   string
	EncryptionKeyID string
	// BatchRecords is the number of records per batch (defaultBatchRecords when 0); Workers the
	// goroutines cleaning (GOMAXPROCS when 0).
	BatchRecords int
	Workers      int

	c                                     *Cleaner
	read, valid, quarantined, undecodable beam.Counter
	changes, references                   beam.Counter
}

func (f *cleanRangeFn) Setup() error {
	std, err := standard.Load()
	if err != nil {
		return err
	}
	enc, err := ParseEncryptionKey(f.EncryptionKey)
	if err != nil {
		return fmt.Errorf("cleaning %s: encryption key: %w", f.Dataset, err)
	}
	keys := Keys{Hash: []byte(f.HashKey), Encryption: enc, EncryptionID: f.EncryptionKeyID}
	if f.c, err = NewCleaner(std, Specs[f.Dataset], keys); err != nil {
		return err
	}
	ns := Namespace(f.Dataset)
	f.read = beam.NewCounter(ns, CounterRead)
	f.valid = beam.NewCounter(ns, CounterValid)
	f.quarantined = beam.NewCounter(ns, CounterQuarantined)
	f.undecodable = beam.NewCounter(ns, CounterUndecodable)
	f.changes = beam.NewCounter(ns, CounterChanges)
	f.references = beam.NewCounter(ns, CounterReferences)
	return nil
}

// chunk is a batch of records on its way through the workers; ready is closed once cleaned.
type chunk struct {
	recs  []kafkaio.Record
	ready chan struct{}

	valid, staged []Cleaned
	quarantine    []Quarantined
	n             counts
}

// counts are a chunk's counter increments.
type counts struct{ read, valid, changes, references, quarantined, undecodable int64 }

// clean cleans the chunk's records.
func (ch *chunk) clean(c *Cleaner) {
	ch.n.read = int64(len(ch.recs))
	var row Cleaned
	for _, rec := range ch.recs {
		q := c.clean(rec, &row)
		if q == nil {
			ch.n.valid++
			switch row.Route {
			case RouteChange:
				ch.n.changes++
				ch.staged = append(ch.staged, row)
			case RouteReference:
				ch.n.references++
				ch.staged = append(ch.staged, row)
			default:
				ch.valid = append(ch.valid, row)
			}
			continue
		}
		ch.n.quarantined++
		if len(q) == 1 && q[0].Code == CodeUndecodable {
			ch.n.undecodable++
		}
		ch.quarantine = append(ch.quarantine, q...)
	}
	ch.recs = nil
}

func (f *cleanRangeFn) ProcessElement(ctx context.Context, r kafkaio.OffsetRange, emitValid, emitStaged func(rowBatch), emitQ func(quarantineBatch)) error {
	size := f.BatchRecords
	if size <= 0 {
		size = defaultBatchRecords
	}
	workers := f.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// A panic of a downstream DoFn (how the SDK reports a sink's error) unwinds through here:
	// cancel and wait, so that no goroutine is left blocked.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(cctx)
	defer func() { cancel(); _ = g.Wait() }()
	jobs := make(chan *chunk, workers)
	inOrder := make(chan *chunk, 2*workers+1)
	g.Go(func() error {
		defer close(jobs)
		defer close(inOrder)
		cur := &chunk{recs: make([]kafkaio.Record, 0, size), ready: make(chan struct{})}
		send := func() {
			select {
			case inOrder <- cur:
			case <-gctx.Done():
				return
			}
			select {
			case jobs <- cur:
			case <-gctx.Done():
			}
		}
		err := (&kafkaio.ReadFn{Brokers: f.Brokers}).ProcessElement(gctx, r, func(rec kafkaio.Record) {
			cur.recs = append(cur.recs, rec)
			if len(cur.recs) == size {
				send()
				cur = &chunk{recs: make([]kafkaio.Record, 0, size), ready: make(chan struct{})}
			}
		})
		if err != nil {
			return err
		}
		if len(cur.recs) > 0 {
			send()
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for ch := range jobs {
				ch.clean(f.c)
				close(ch.ready)
			}
			return nil
		})
	}
	for ch := range inOrder {
		select {
		case <-ch.ready:
		case <-gctx.Done():
			return g.Wait()
		}
		f.emit(ctx, ch, emitValid, emitStaged, emitQ)
	}
	return g.Wait()
}

// emit emits a cleaned chunk's batches and counts them.
func (f *cleanRangeFn) emit(ctx context.Context, ch *chunk, emitValid, emitStaged func(rowBatch), emitQ func(quarantineBatch)) {
	f.read.Inc(ctx, ch.n.read)
	f.valid.Inc(ctx, ch.n.valid)
	f.changes.Inc(ctx, ch.n.changes)
	f.references.Inc(ctx, ch.n.references)
	f.quarantined.Inc(ctx, ch.n.quarantined)
	f.undecodable.Inc(ctx, ch.n.undecodable)
	if len(ch.valid) > 0 {
		emitValid(rowBatch{Rows: ch.valid})
	}
	if len(ch.staged) > 0 {
		emitStaged(rowBatch{Rows: ch.staged})
	}
	if len(ch.quarantine) > 0 {
		emitQ(quarantineBatch{Rows: ch.quarantine})
	}
}

// valuer converts Cleaned rows to column values like Spec.Values, remembering where each column's
// value sits in the last row's Names (rows of a dataset nearly always share one layout, and the
// cleaner gives the rows of a layout one Names slice), instead of indexing every row by name. It
// also keeps each column's last value: a column whose input is the previous row's (a code, a
// region, the batch, the receive time) reuses that value rather than converting and boxing it
// again. The values are never changed once made, so rows may share them. Not safe for concurrent
// use.
type valuer struct {
	spec  Spec
	cols  map[string][]int // value name → the columns filled from it
	names []string
	idx   []int // per column: index in names, or -1
	last  []lastValue
}

// lastValue is a column's last converted value and what it was converted from.
type lastValue struct {
	ok    bool
	text  string
	flags []string
	ms    int64
	v     any
}

func (v *valuer) values(c *Cleaned) ([]any, error) {
	if v.cols == nil {
		v.cols = make(map[string][]int, len(v.spec.Columns))
		for i, col := range v.spec.Columns {
			v.cols[col.source()] = append(v.cols[col.source()], i)
		}
		v.idx = make([]int, len(v.spec.Columns))
		v.last = make([]lastValue, len(v.spec.Columns))
		v.names = nil
	}
	if v.names == nil || !sameStrings(v.names, c.Names) {
		for i := range v.idx {
			v.idx[i] = -1
		}
		for j, n := range c.Names { // a repeated name: the last value wins, as in Spec.Values
			for _, i := range v.cols[n] {
				v.idx[i] = j
			}
		}
		v.names = c.Names
	}
	out := make([]any, len(v.spec.Columns))
	for i, col := range v.spec.Columns {
		text := ""
		if j := v.idx[i]; j >= 0 {
			text = c.Values[j]
		}
		l := &v.last[i]
		if l.ok {
			switch col.Kind {
			case KindFlags:
				if slices.Equal(l.flags, c.Flags) {
					out[i] = l.v
					continue
				}
			case KindReceivedAt, KindVersion:
				if l.ms == c.ReceivedAtMs {
					out[i] = l.v
					continue
				}
			default:
				if l.text == text {
					out[i] = l.v
					continue
				}
			}
		}
		x, err := convert(col.Kind, text, c.Flags, c.ReceivedAtMs)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col.Name, err)
		}
		out[i] = x
		*l = lastValue{ok: true, text: text, ms: c.ReceivedAtMs, v: x}
		if col.Kind == KindFlags {
			l.flags = x.([]string)
		}
	}
	return out, nil
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 0 && &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
