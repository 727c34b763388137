// Package collector is the HTTP collector: a Segment-compatible tracking endpoint (/v1/batch,
// /v1/import, /v1/track, /v1/page, /v1/screen, /v1/identify, /v1/alias) that authenticates a
// request by its write key, applies the key's rate limit, bounds the request's size and the
// events in flight, hands the body to ingest/event for parsing, validation and enrichment, asks
// the tracking plan (a PlanChecker, when one is given) about every valid event, and produces
// valid events to the events topic and rejected ones to the dead-letter topic, answering only
// once Kafka acknowledged every record. /healthz is liveness (the process answers); /readyz is
// readiness (a cached check that the producer reaches a broker).
//
// Write keys: each Config.WriteKeys entry is "key=source[:rate[:burst]]", a token bucket of
// rate events per second per key (all events of a request count, valid or not; a request with
// more events than burst needs the whole bucket). Over the limit the answer is 429 with a
// Retry-After computed from the bucket, counted in citypulse_collector_events_rate_limited_total
// by source.
//
// Server-side enrichment goes to context.server, never to the client's own context fields, so
// what the client claims (context.os, context.device, context.app.version …) and what the
// collector knows or derived stay apart and a client cannot forge the latter (a client-sent
// context.server is replaced):
//
//	"server": {"ip": "203.0.113.0", "appVersion": "3.2.1",
//	           "os": {"name": "iOS", "version": "17.4.1"},
//	           "browser": {"name": "WeChat Mini Program", "version": "8.0.47"},
//	           "device": {"type": "mobile"}}
//
// ip is the client address truncated to its /24 (IPv6: /48); the full address is never stored
// or logged. It is the first hop of X-Forwarded-For only when the peer is one of
// Config.TrustedProxies, else the peer address. A client-sent context.ip (Segment's server-side
// libraries set it) is truncated the same way. appVersion is context.app.version normalised
// (event.NormaliseVersion); os, browser and device come from context.userAgent, else the
// User-Agent header (ingest/useragent). The received time stays where Segment puts it, the
// event's top-level receivedAt. The shape is event.Server.
//
// Performance (BENCHMARKS.md, scripts/bench-collector.sh): request bodies and record memory
// come from pools and go back once the request is answered (bodies) or kgo settled every record
// (records); parsed User-Agents are cached (useragent.Cache, bounded); each request waits once
// for all its records' acknowledgements. ProducerOpts lingers 1 ms: a longer linger bounds
// throughput by latency (every request waits for it), while batching comes anyway from the
// records that queue while a produce request is in flight. Go's default GOGC is fine: the
// garbage collector takes ~2% of the collector's CPU.
//
// It is a thin adapter: it must not validate fields itself (ingest/event does), judge events
// against the tracking plan itself (the PlanChecker does), or dedupe (messageId dedupe is
// downstream).
package collector
