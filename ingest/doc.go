// Package ingest is the way in for everything CityPulse receives from outside. Its subpackages
// do the work: event (the Segment-compatible wire contract and its validation), collector (the
// HTTP tracking endpoint that writes events to Kafka), simulate (synthetic traffic for tests and
// demos), and the feeds gateway and tracking SDKs as they arrive. This package itself holds no
// code; nothing under ingest/ may read from Kafka or write to the warehouse, which is the
// pipelines' job.
package ingest
