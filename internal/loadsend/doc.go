// Package loadsend sends tracking batches to a collector the way a tracking SDK does, for tests
// that load the collector while they break something (a broker, the collector itself): each
// batch keeps its message ids and is resent with jittered exponential backoff (or the answer's
// Retry-After) until it gets a 200, and every attempt is reported to a Recorder, so that the
// test can tell which events were acknowledged, how many attempts failed and when the service
// recovered. It is test support only: nothing but _test.go files may import it. It holds no
// assertions and measures nothing itself; a benchmark's load generator belongs elsewhere
// (ingest/collector/internal/loadgen).
package loadsend
