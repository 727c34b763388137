// Package collector is the HTTP collector: a Segment-compatible tracking endpoint (/v1/batch,
// /v1/import, /v1/track, /v1/page, /v1/screen, /v1/identify) that authenticates a request by
// its write key, bounds its size and the events in flight, hands the body to ingest/event for
// parsing and validation, and produces valid events to the events topic and rejected ones to the
// dead-letter topic, answering only once Kafka acknowledged every record. It is a thin adapter:
// it must not validate fields itself, transform events beyond ingest/event's canonical form, or
// dedupe (messageId dedupe is downstream).
package collector
