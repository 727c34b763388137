// Command loadgen is the collector benchmark (`make bench`, scripts/bench-collector.sh): it
// starts the embedded broker on a data dir on disk, the real collector and a bare net/http
// handler that reads and discards request bodies, both on loopback, and drives each in turn
// with the same Segment batches (50 events each by default) over the same number of keep-alive
// connections, closed loop, in alternating rounds. The load generator runs in a child process
// per round (-gen process, the default), so that the servers' CPU time and the generator's are
// told apart; the generator is a cheap Go client (-client raw), net/http's Client (nethttp) or
// Debian's wrk (wrk). It prints events/s, p50/p99 request latency and CPU per event for each side and
// the collector's share of the baseline; then it loads each side open loop at a fixed rate
// (-latency-rate, 50,000 events/s) for the latency target; and it checks that the broker holds
// every event the collector acknowledged. -floor times the collector's two unavoidable steps
// alone (parsing+encoding, producing+acknowledgement) against what the ratio target allows.
// -variant runs collectors with other producer or
// broker settings in the same rounds, for comparisons on a noisy machine. It is a measuring
// tool, not a test: it asserts no timings.
package main
