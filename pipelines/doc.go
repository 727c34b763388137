// Package pipelines holds CityPulse's Apache Beam pipelines and the loop that runs them: the
// events pipeline (pipelines/events: citypulse.events.v1 → dwd_events and the daily aggregate),
// the bad-events pipeline (pipelines/deadletters: citypulse.events.dlq.v1 → ods_bad_events) and
// one cleaning pipeline per feed dataset (pipelines/cleaning: citypulse.feeds.<dataset>.v1 →
// dwd_<dataset>, ods_feed_quarantine, and ods_staged_rows for departments' change requests and
// reference feeds; personal fields hashed, masked and encrypted under the clean-* keys).
// Scheduled batch jobs (the daily aggregate after the events pipeline caught up) run in
// pipelines/scheduler.
// Each pipeline is built by a function on a beam.Scope (construction apart from running, as in
// Beam's examples); the Runner executes bounded runs turn after turn on the configured runner
// (Prism in-process by default), each pipeline with its own consumer group, committing Kafka
// offsets only after a run has written its output. It must not hold state that only one process
// could have: everything it needs is in Kafka and ClickHouse.
package pipelines
