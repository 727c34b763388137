// Package event is the wire contract between the collector and the pipelines: the canonical Event
// the collector writes to Kafka, the DeadLetter it writes for an event that failed validation, and
// the parser that turns Segment HTTP tracking API bodies (batch and single-event) into Events and
// per-event Rejections, checking every field an outside client sends. It does no I/O: it must not
// know about HTTP, write keys or Kafka, and it keeps no state between calls.
package event
