// Package deadletters is the bad-events pipeline: it reads bounded offset ranges of the dead-letter
// topic (citypulse.events.dlq.v1), turns every record into an ods_bad_events row (FromRecord, a
// pure function tested without a runner) and writes the rows to ClickHouse in batches. Nothing is
// dropped: a record that is not a readable ingest/event.DeadLetter is stored too, with code
// "undecodable" and its value as raw. The table collapses a dead letter read twice (see
// warehouse/migrations/0002_bad_events.sql), so re-reading a range is harmless. The dead letter
// names the app (source) a write key stands for, never the key, and neither does this package. It
// does not plan or commit Kafka offsets (the caller does that around a run), does not produce to
// Kafka, and does not judge events: the collector and the events pipeline did that.
package deadletters
