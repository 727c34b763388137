// Package events is the events pipeline: it reads bounded offset ranges of citypulse.events.v1,
// decodes the collector's canonical events, drops exact duplicates by message id, cleans them
// (trims and de-noises text, normalises types, derives the local event date) into dwd_events rows,
// writes them to ClickHouse in batches, recomputes the daily aggregate of every day it touched, and
// sends records it cannot use to the dead-letter topic with the reason. Cleaning is a pure function
// (Clean) so it is tested without a runner. It does not plan or commit Kafka offsets; the caller
// does that around a run.
package events
