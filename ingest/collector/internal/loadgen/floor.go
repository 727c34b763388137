package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/useragent"
	"github.com/citypulse/citypulse/internal/bus"
)

// The floor (-floor): what the collector's two unavoidable steps cost alone, in this process,
// with no HTTP: (1) parsing, validating, enriching and encoding the benchmark's events as the
// collector does (event.Request.AppendBatch with the collector's enrichment, event.Encoder),
// on GOMAXPROCS goroutines; (2) producing the resulting records — the same keys and values —
// with the collector side's own producer to its own embedded broker, -conns goroutines each
// producing one request's records and waiting for all their acknowledgements, as the
// handler does. Their sum plus the bare server's CPU per event is the least the collector's
// server can cost with these components; the line says how that compares with what the
// ratio target allows.

// floorResult is CPU per event of each step alone.
type floorResult struct {
	parse, kafka time.Duration
}

// measureFloor runs both steps for d each, on the benchmark's bodies.
func measureFloor(ctx context.Context, o options, prod *kgo.Client, bodies [][]byte, d time.Duration) (floorResult, error) {
	agents := useragent.NewCache(4096)
	loopback := netip.MustParseAddr("127.0.0.1")
	newRequest := func() event.Request {
		return event.Request{Now: time.Now().UTC(), Source: source, Agents: agents,
			Origin: &event.Origin{IP: event.TruncateAddr(loopback), UserAgent: userAgent}}
	}
	type record struct{ key, value []byte }
	reqs := make([][]record, len(bodies))
	for i, b := range bodies {
		evs, rejs, err := newRequest().ParseBatch(b)
		if err != nil || len(rejs) > 0 {
			return floorResult{}, fmt.Errorf("body %d: %d rejected, %v", i, len(rejs), err)
		}
		var enc event.Encoder
		for j := range evs {
			reqs[i] = append(reqs[i], record{[]byte(evs[j].Key()), enc.Append(nil, &evs[j])})
		}
	}

	var fr floorResult
	// (1) parse + encode.
	{
		var n atomic.Int64
		cctx, cancel := context.WithTimeout(ctx, d)
		var wg sync.WaitGroup
		cpu0 := cpuTime()
		for w := range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				var (
					evs []event.Event
					buf []byte
					err error
				)
				for i := w; cctx.Err() == nil; i++ {
					evs, _, err = newRequest().AppendBatch(evs[:0], bodies[i%len(bodies)])
					if err != nil {
						panic(err) // parsed once above
					}
					var enc event.Encoder
					buf = buf[:0]
					for j := range evs {
						buf = append(buf, evs[j].Key()...)
						buf = enc.Append(buf, &evs[j])
					}
					n.Add(int64(len(evs)))
				}
			})
		}
		wg.Wait()
		cancel()
		fr.parse = perEvent(cpuTime()-cpu0, n.Load())
	}
	// (2) produce and wait for the acknowledgements.
	{
		var (
			n        atomic.Int64
			firstErr atomic.Pointer[error]
		)
		cctx, cancel := context.WithTimeout(ctx, d)
		var wg sync.WaitGroup
		cpu0 := cpuTime()
		for w := range o.conns {
			wg.Go(func() {
				for i := w; cctx.Err() == nil && firstErr.Load() == nil; i++ {
					rs := reqs[i%len(reqs)]
					var left sync.WaitGroup
					left.Add(len(rs))
					now := time.Now()
					for _, r := range rs {
						prod.Produce(ctx, &kgo.Record{Topic: bus.EventsTopic, Key: r.key, Value: r.value, Timestamp: now},
							func(_ *kgo.Record, err error) {
								if err != nil {
									firstErr.CompareAndSwap(nil, &err)
								}
								left.Done()
							})
					}
					left.Wait()
					n.Add(int64(len(rs)))
				}
			})
		}
		wg.Wait()
		cancel()
		fr.kafka = perEvent(cpuTime()-cpu0, n.Load())
		if p := firstErr.Load(); p != nil {
			return floorResult{}, fmt.Errorf("produce: %w", *p)
		}
	}
	return fr, nil
}

// printFloor prints the floor beside the sides' measurements: base is the baseline's result
// and col the collector's (either may be nil when -only ran one side).
func printFloor(out io.Writer, fr floorResult, base, col *result) {
	fmt.Fprintf(out, "floor, each step alone in this process (CPU per event): parse+validate+enrich+encode %s, produce+acknowledge (kgo and the embedded broker) %s\n",
		fr.parse, fr.kafka)
	if base == nil || base.events == 0 {
		return
	}
	bare := perEvent(base.cpu, base.events)
	least := bare + fr.parse + fr.kafka
	line := fmt.Sprintf("  the bare server's %s + both steps = %s: the least the collector's server can cost with these components", bare, least)
	if col != nil && col.events > 0 && base.genCPU > 0 {
		// On equal CPU the events/s ratio is the inverse of the ratio of CPU per event
		// (server + generator), so 40% allows the collector side 2.5 times the baseline's.
		allowed := time.Duration(2.5*float64(base.cpuPerEvent())) - perEvent(col.genCPU, col.events)
		line += fmt.Sprintf(" (it used %s); 40%% of the baseline on equal CPU allows its server %s beside its generator's %s",
			perEvent(col.cpu, col.events), allowed, perEvent(col.genCPU, col.events))
	}
	fmt.Fprintln(out, line)
}
