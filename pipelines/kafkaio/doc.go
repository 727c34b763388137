// Package kafkaio reads Kafka in Apache Beam Go pipelines as bounded offset ranges: the driver plans
// [committed, high-water) ranges per partition for a consumer group, the pipeline reads them with
// ReadFn (franz-go), and the driver commits the ranges' ends only once the pipeline's sinks have the
// data. A crash between the sink and the commit re-reads a range, so sinks must be idempotent. It
// also reads unbounded: ReadStream is a splittable DoFn with one restriction per partition from
// the committed offset on, self-checkpointing, with an event-time watermark, and a Committer
// commits what a sink reports written, up to the first gap (stream.go explains the contract). It
// does not decode record values.
package kafkaio
