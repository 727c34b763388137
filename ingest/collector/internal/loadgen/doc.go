// Command loadgen is the collector benchmark (`make bench`, scripts/bench-collector.sh): in one
// process it starts the embedded broker on a data dir on disk, the real collector and a bare
// net/http handler that reads and discards request bodies, both on loopback, and drives each in
// turn with the same Segment batches (50 events each by default) over many keep-alive
// connections for a bounded time. It prints events/s and p50/p99 request latency for both and
// the collector's share of the baseline, and checks that the broker holds every event the
// collector acknowledged. It is a measuring tool, not a test: it asserts no timings.
package main
