// Package event is the wire contract between the collector and the pipelines: the canonical Event
// the collector writes to Kafka, the DeadLetter it writes for an event that failed validation, and
// the parser that turns Segment HTTP tracking API bodies (batch and single-event; track, page,
// screen, identify and alias) into Events and per-event Rejections, checking every field an
// outside client sends. Given the request's Origin (truncated IP, User-Agent header) it also
// stamps the server-side enrichment into context.server (see Server) and truncates a client-sent
// context.ip, so no full IP address leaves it. It does no I/O: it must not know about HTTP, write
// keys or Kafka, and it keeps no state between calls (a Request may carry a caller-owned
// useragent.Cache).
//
// The parser is on the collector's hot path and is measured (bench_test.go, fastscan_test.go):
// a hand-written validating scanner (fastscan.go) reads a body in one pass and falls back to
// jsontext (scan.go) for anything it does not handle itself, so both accept exactly the same
// inputs (FuzzFastScan checks it); objects are kept as sent and only changed members are
// spliced in; the strings, contexts and context.server a batch's events share are decoded
// and encoded once per request.
package event
